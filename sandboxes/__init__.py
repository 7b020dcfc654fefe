"""Local HTTP servers that speak each channel's documented API, for tests and demos.

Adapters are pointed at them by their base-URL settings and cannot tell them from the real service.
Each sandbox keeps its state in memory and exposes it under `/_sandbox/...` for tests to seed and
inspect; those paths are the only thing a real channel does not have.
"""
