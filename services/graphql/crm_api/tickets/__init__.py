"""GraphQL: after-sales service tickets."""
