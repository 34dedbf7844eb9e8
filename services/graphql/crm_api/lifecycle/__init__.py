"""GraphQL: customer lifecycle history."""
