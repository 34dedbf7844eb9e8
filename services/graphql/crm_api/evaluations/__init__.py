"""Relationship evaluations over GraphQL."""
