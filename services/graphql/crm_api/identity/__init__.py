"""GraphQL: identity."""
