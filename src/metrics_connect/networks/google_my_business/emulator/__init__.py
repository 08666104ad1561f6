"""The Google Business Profile emulator."""
