"""Mail over GraphQL (suppressions) and the public unsubscribe page."""
