"""GraphQL: customers."""
