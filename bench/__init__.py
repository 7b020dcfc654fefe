"""Benchmarks that drive a running engine from outside (`python -m bench.orders`)."""
