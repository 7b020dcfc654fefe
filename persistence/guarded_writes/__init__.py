"""The write side: the state the engine must never get wrong under races.

Stock (guarded single statements and their ledger), idempotent steps, the outboxes to the channels,
the pull cursors, the cancel-or-handover claim. What belongs here is any write whose correctness
depends on how it is written, not on who calls it:
- one guarded statement, never read-then-write: the WHERE clause is the check
  (`UPDATE … SET reserved = reserved + q WHERE on_hand - reserved - safety_stock >= q`), so two
  processes racing for the last unit cannot both win, whatever the isolation level;
- every stock move a ledger row and a stock-outbox row in the same transaction (`inventory._ledger`
  writes both, so no caller can forget);
- keys under unique constraints or compare-and-set (a step's result, a notice per shipment or
  order, a cursor moved only from where the page was pulled), so a retry or an overlapping attempt
  writes nothing twice;
- and the reads those writes are planned on, made inside the same transaction (sourcing inputs).

It imports the package root's models and plumbing and the master data (channel policies for
available-to-promise); never the read side. What the order's timeline should say about a write is
the caller's to add, from the read side, in the same transaction.
"""
