"""Requirement analyses (客户需求分析表): what a customer needs and what is done about it."""
