"""Customers: the record every other table points to."""
