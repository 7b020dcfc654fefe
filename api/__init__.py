"""HTTP surface: channel webhooks, staff endpoints and the read model (see CONTRACT.md)."""
