"""The shared customer pool over GraphQL."""
