"""Leads (潜在客户): prospective customers, qualified and converted into customers."""
