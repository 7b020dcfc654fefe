"""Accounting systems the books are pushed to (Moneybird; Exact Online beside it)."""
