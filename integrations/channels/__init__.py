"""Channel adapters: each maps its channel's own documented payload to the canonical order."""
