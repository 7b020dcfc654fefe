"""Accounting systems the books are pushed to (services.books)."""
