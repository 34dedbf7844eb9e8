"""Contact queries (tenant-bound sessions only): the shared rules for a customer's records."""

from __future__ import annotations

from crm_core.contacts.models import Contact
from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren

# Primary contact first, then in the order they were added.
_children = CustomerChildren(
    Contact,
    order_by=(Contact.is_primary.desc(), Contact.created_at, Contact.id),
    search_column=Contact.search_text,
    public_search_column=Contact.search_public,
)

live = _children.live
visible = _children.visible
get = _children.get
get_many = _children.get_many
by_customers = _children.by_customers
base_select = _children.base_select

__all__ = [
    "PER_CUSTOMER_LIMIT",
    "base_select",
    "by_customers",
    "get",
    "get_many",
    "live",
    "visible",
]
