"""Secrets at rest: the master key and envelope encryption."""
