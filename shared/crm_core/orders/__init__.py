"""Orders (transactions) with their lines, payments and refunds (domain.md, further tables)."""
