"""Database layer: declarative bases, engines, tenant-bound sessions, migrations."""
