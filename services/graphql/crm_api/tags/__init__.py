"""GraphQL: the tag catalogue and tagging customers."""
