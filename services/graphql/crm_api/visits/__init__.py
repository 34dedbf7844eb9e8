"""GraphQL: visit plans and visit records."""
