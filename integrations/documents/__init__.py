"""Invoices and credit notes in outside formats: what a customer reads (PDF) and what bookkeeping and
e-invoicing read (EN 16931 XML)."""
