"""Tests of ctwatch.sources."""
