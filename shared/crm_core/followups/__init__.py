"""Follow-ups on a customer, scheduled and done (domain.md §5)."""
