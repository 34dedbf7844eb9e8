"""Search across entity types."""
