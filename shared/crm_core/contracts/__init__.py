"""Contracts with customers and their deliveries (domain.md §8)."""
