"""Google Analytics 4 connector (Data API v1beta runReport)."""
