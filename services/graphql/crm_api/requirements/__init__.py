"""GraphQL: requirement analyses (客户需求分析表)."""
