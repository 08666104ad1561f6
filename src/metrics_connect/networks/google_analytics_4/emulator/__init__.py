"""Emulator of the Google Analytics Data API v1beta for one GA4 property."""
