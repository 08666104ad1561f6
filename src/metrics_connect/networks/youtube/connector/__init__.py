"""The YouTube connector on the Google kit."""
