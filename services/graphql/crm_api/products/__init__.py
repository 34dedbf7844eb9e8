"""GraphQL: the product catalogue."""
