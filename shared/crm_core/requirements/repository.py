"""Requirement analysis queries (tenant-bound sessions only): the shared rules for a customer's
records."""

from __future__ import annotations

from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren
from crm_core.requirements.models import RequirementAnalysis

_children = CustomerChildren(
    RequirementAnalysis,
    order_by=(RequirementAnalysis.created_at.desc(), RequirementAnalysis.id.desc()),
    search_column=RequirementAnalysis.search_text,
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
