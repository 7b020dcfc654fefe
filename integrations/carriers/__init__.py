"""Carrier integrations: labels out, parcel events in (one folder per carrier service), behind one
`Carrier` protocol (`base.py`) so another carrier platform plugs in without touching the engine."""
