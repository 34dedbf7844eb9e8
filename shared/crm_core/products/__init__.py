"""Products: the company-wide catalogue that opportunities, orders and reports refer to."""
