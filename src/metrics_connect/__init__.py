"""metrics-connect: an open, self-hostable marketing-metrics API."""

__version__ = "0.1.0"
