"""The daily archive of the location's review count and average rating."""
