"""Scheduled collection per active integration: archive what the networks forget."""
