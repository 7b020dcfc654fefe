"""The application's use cases (take an order, cancel, release, return, stock moves, the catalogue,
channel settings, shipment confirmations, what staff and customers read), each a small class over a
unit of work (services.unit_of_work) and, where a workflow is involved, the gateway to them
(services.gateway). No FastAPI and no workflow code: the API, the activities and ops call these."""
