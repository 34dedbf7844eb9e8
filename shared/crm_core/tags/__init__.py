"""The tag catalogue (客户分类): named, coloured tags; customers hold them in ``customers.tags``."""
