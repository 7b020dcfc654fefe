"""The read side: projections of the orders, shipments, returns and stock for people to read.

Written by the activities, each in its step's own transaction (so a projection is exactly as current
as the step that last committed), and read by the API, the dashboard and the KPI report without
asking Temporal, which forgets a finished run after its retention. What belongs here: the order
read model and its timeline, pick lists and late steps, returns, what waits for stock, the stock
overview, the dashboard's and the KPI report's queries, and the audit of what channels sent.

Nothing here is what a race is decided on. A projection that moves stock (a return restocked) does
it through the write side (`persistence.guarded_writes`), which it may import; the write side never
imports this package.
"""
