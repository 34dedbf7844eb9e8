"""Imports of customers, contacts, leads, products and orders from CSV and Excel files."""
