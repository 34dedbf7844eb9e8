"""GraphQL: complaints and feedback."""
