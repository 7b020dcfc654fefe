"""Sandbox providers that confirm by themselves (OMS_SANDBOX): for `make run`, demos and benchmarks.

Deterministic: every reference is derived from the idempotency key, so a retried call answers the
same reference, as a real gateway does with an idempotency key.
"""
