"""The YouTube emulator: Analytics API v2 reports, Data API v3 channels, videos, uploads."""
