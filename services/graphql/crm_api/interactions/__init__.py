"""GraphQL: interactions (contact records)."""
