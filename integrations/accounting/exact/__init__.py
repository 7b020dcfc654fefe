"""Exact Online: OAuth2 with rotating refresh tokens, its rate limits, sales entries."""
