"""After-sales service tickets: a customer's problem and how it was handled (domain.md §9)."""
