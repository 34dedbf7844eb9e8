"""Activities and events (客户活动表) and which customers and contacts attended them."""
