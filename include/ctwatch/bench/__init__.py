"""Benchmarks (scripts, not tests): `python -m ctwatch.bench.ingest`."""
