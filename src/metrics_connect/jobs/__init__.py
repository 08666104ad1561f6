"""Async metrics: job model, task queue, webhook signing and delivery, SSRF guard."""
