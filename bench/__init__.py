"""Benchmarks of metrics-connect (see docs/benchmarks.md): `python bench/run.py`."""
