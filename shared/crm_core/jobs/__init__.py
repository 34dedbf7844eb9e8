"""Long background jobs: a ``jobs`` row per job in the tenant schema, run by ``runner.job_actor``."""
