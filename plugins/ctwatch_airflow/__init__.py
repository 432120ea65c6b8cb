"""Airflow adapters for ctwatch: defaults, settings, the loopback launcher.

The domain library lives in include/ctwatch and never imports Airflow; this package is the
only place where the two meet (besides the thin DAG files).
"""
