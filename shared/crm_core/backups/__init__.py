"""Per-tenant logical backups and restores (see ``service``)."""
