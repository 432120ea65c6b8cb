"""Benchmarks (scripts, not tests): `python -m ctwatch.bench.ingest` (CT ingestion against
certspotter) and `python -m ctwatch.bench.dashboard` (the dashboard's page times)."""
