"""Visit plans and visit records of customers (客户联络计划表, 客户拜访记录表)."""
