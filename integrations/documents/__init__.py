"""Invoices and credit notes in outside formats: what a customer reads (PDF) and what bookkeeping reads."""
