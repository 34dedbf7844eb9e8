"""Saved customer segments: a stored customer filter, evaluated live for each viewer."""
