"""Survey templates over GraphQL."""
