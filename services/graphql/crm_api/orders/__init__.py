"""GraphQL: orders with their lines, payments and refunds."""
