"""Carriers that print labels and hand out tracking numbers (Sendcloud today), behind one
`Carrier` protocol (`base.py`) so another carrier platform plugs in without touching the engine."""
