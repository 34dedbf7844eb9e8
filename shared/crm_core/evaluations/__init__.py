"""Relationship evaluations (客户关系评估表)."""
