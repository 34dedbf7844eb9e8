"""Local runtime for ``crm up``: embedded PostgreSQL and Valkey, and a process supervisor."""
