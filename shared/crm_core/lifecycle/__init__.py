"""Lifecycle history of customers (客户生命周期表): each change of stage, when and why."""
