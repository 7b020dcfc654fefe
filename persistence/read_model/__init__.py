"""The read side: projections of orders, shipments, returns and stock for people to read.

Written by the activities, each in its step's own transaction (so a projection is exactly as current
as the last step that committed), and read by the API, the dashboard and the KPI report without
asking Temporal, which forgets a finished run after its retention. What belongs here: the order read
model and its timeline (`orders`), pick lists and when each channel heard of a shipment
(`shipments`), late steps (`escalations`), returns, what waits for stock (`backorders`, which the
stock feed reads to wake orders), the stock overview (`stock_overview`), the dashboard's and the KPI
report's queries (`overview`, `kpis`), and records kept for people and tests to read: what channels
sent (`channel_messages`) and what an unconnected channel would have been told
(`sandbox_stock_feed`).

No race is decided here. A projection that moves stock (a return put back on the shelf) does it
through the write side (`persistence.guarded_writes`), which it may import; the write side never
imports this package.
"""
