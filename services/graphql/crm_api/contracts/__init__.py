"""GraphQL: contracts and their deliveries."""
