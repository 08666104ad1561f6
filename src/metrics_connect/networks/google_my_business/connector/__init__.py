"""Google Business Profile on the Google connector kit."""
