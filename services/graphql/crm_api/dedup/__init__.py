"""Deduplication: the review queue, the duplicate check, merge and undo."""
