"""Moneybird (API v2): our invoices and credit notes booked as external sales invoices."""
