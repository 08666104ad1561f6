"""Instagram's archive: stories within their 24 hours, daily snapshots, windowed days."""
