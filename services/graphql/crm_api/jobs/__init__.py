"""Background jobs over GraphQL: ``job``, ``jobs``, ``cancelJob``, ``retryJob``."""
