"""Audit: who changed what, when, from where; before and after."""
