"""Master data: what staff set up and both sides read. The catalogue (EANs and channel listing ids on
our SKUs), the channel policies (with the per-process cache the stock hot path reads them through),
the locations.

Neither a guarded write nor a projection: it changes rarely, by a person, and an EAN or listing id
another request took meanwhile is refused by its unique key (persistence.conflicts). It imports only
the package root; both sides may import it.
"""
