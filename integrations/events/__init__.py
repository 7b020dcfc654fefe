"""Events out to other systems' endpoints (Standard Webhooks)."""
