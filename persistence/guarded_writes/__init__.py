"""The write side: the state the engine must never get wrong under races.

What belongs here is any write whose correctness depends on how it is written, not on who calls it
or how often:
- one guarded statement, never read-then-write: the WHERE clause is the check
  (`UPDATE … SET reserved = reserved + q WHERE on_hand - reserved - safety_stock >= q`), so two
  processes racing for the last unit cannot both win, whatever the isolation level (`inventory`,
  `stock_ops`, and on PostgreSQL sent with the COMMIT, `guarded_commit`);
- every stock move a ledger row and a stock-outbox row in the same transaction (`inventory._ledger`
  writes both, so no caller can forget: `stock_outbox`);
- keys under unique constraints, compare-and-set and row locks, so a retry or an overlapping attempt
  writes nothing twice and two rivals cannot both win: a step's result (`idempotency`), one notice
  per shipment or cancelled order (`channel_outbox`, `shipment_notices`, `cancellation_notices`,
  `outbox_work`), a cursor moved only from where its page was pulled (`channel_cursors`), a cancel
  and a handover under the order row's lock (`cancel_claims`);
- and the reads those writes are planned on, inside the same transaction (`sourcing_inputs`).

It imports the package root and master data (channel policies, for available-to-promise), never the
read side: what the order's timeline should say about a write (a channel to be told by hand) is
answered to the caller, which adds it from the read side in the same transaction.
"""
