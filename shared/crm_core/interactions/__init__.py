"""Contact records / interactions with a customer (domain.md §3)."""
