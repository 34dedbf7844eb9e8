"""Deduplication and merge: blocking keys, explainable scores, the review queue, merge and undo."""
