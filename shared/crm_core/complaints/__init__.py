"""Complaints and feedback from customers, with their handling (domain.md §6)."""
