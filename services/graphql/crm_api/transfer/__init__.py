"""GraphQL and HTTP of imports, exports and their files."""
