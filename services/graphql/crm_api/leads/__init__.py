"""GraphQL: leads (潜在客户) and their conversion into customers."""
