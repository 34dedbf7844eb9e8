"""GraphQL: contacts."""
