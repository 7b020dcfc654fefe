"""Pure order-management rules: standard library only, no I/O, so every rule is unit-testable."""
