"""GraphQL: follow-ups."""
