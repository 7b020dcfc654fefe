"""Where the engine's state lives, in three parts over one set of models.

- `guarded_writes/`, the write side: stock moves as guarded single statements with their ledger,
  idempotent steps, the outboxes to the channels, pull cursors, the cancel-or-handover claim: the
  writes whose correctness under races depends on how they are written.
- `read_model/`, the read side: the projections activities write in each step's transaction and the
  API, the dashboard and the KPI report read without asking Temporal.
- `master_data/`: what staff set up and both sides read (catalogue, channel policies, locations).

At the root, the plumbing all three stand on: the models (`models.py`, the one description of the
schema; Alembic migrations are the only way it is created, `migrate.py`), engines and sessions
(`db.py`), the unit of work, the database's refusals named in our own words (`conflicts.py`,
`storage_errors.py`), and the repositories services use (`repositories.py`, over all three).
Arrows inside: master data <- write side <- read side; the write side never imports the read side
(tests/unit/test_layers.py).
"""
