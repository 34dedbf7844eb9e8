"""Satisfaction survey templates (客户满意度调查)."""
