"""Validation and normalisation of customer and contact data (service and cleansing actor)."""
