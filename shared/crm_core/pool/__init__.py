"""The shared customer pool (公海)."""
