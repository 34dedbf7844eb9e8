"""GraphQL: saved customer segments, evaluated live."""
