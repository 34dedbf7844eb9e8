"""Alembic trees: ``core`` (control plane) and ``tenant`` (one schema per company)."""
