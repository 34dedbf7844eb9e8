"""What each exportable list is: its rows (the same base query as the API's list, with the data
scope), the columns that may be exported, and which of them are personal data.

The API validates a filter against its own column map before a job is queued; here filters are
compiled against the model's columns by the same names (the API's field names are the column
attribute names), and a test keeps the two maps in step.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import aliased

from crm_core.cleansing.normalize import mask_email, mask_phone
from crm_core.contacts import repository as contacts
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.leads import repository as leads
from crm_core.leads.models import Lead
from crm_core.orders import repository as orders
from crm_core.orders.models import Order
from crm_core.products import repository as products
from crm_core.products.models import Product

Base = Callable[[Principal, bool, str | None], Select[Any]]
# Never exported nor filtered on: derived search texts, ciphertexts, blind indexes, keys.
NEVER = frozenset(
    {"search_text", "search_public", "dedup_keys", "tax_id_encrypted", "tax_id_index",
     "bank_account_encrypted", "review_flags", "important_dates", "do_not_visit",
     "social_accounts"}
)  # fmt: skip


def _phone(value: Any) -> Any:
    return mask_phone(str(value)) if value else value


def _email(value: Any) -> Any:
    return mask_email(str(value)) if value else value


def _hidden(value: Any) -> Any:
    return None


@dataclass(frozen=True, slots=True)
class ExportSpec:
    entity: str
    model: Any
    base: Base
    default_columns: tuple[str, ...]
    # Masked for a principal without personal_data:read, as the API masks them.
    personal: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Columns read from a related row, for people rather than programs (a customer's code and
    # name instead of its id): name → (this model's foreign key, the related model, its column).
    related: Mapping[str, tuple[str, Any, str]] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, Any]:
        """The model's own columns: what may be exported and filtered on."""
        table = self.model.__table__
        return {c.key: getattr(self.model, c.key) for c in table.columns if c.key not in NEVER}

    @property
    def exportable(self) -> set[str]:
        return set(self.columns) | set(self.related)


def _scoped(repo: Any) -> Base:
    def base(principal: Principal, include_deleted: bool, search: str | None) -> Select[Any]:
        return repo.base_select(  # type: ignore[no-any-return]
            include_deleted=include_deleted,
            search=search,
            scope=principal.data_scope,
            personal_data=principal.sees_personal_data,
        )

    return base


def _products(principal: Principal, include_deleted: bool, search: str | None) -> Select[Any]:
    return products.base_select(include_deleted=include_deleted, search=search)


CUSTOMER_OF = {
    "customer_code": ("customer_id", Customer, "code"),
    "customer_name": ("customer_id", Customer, "name"),
}

SPECS: dict[str, ExportSpec] = {
    "customer": ExportSpec(
        "customer", Customer, _scoped(customers),
        ("code", "name", "kind", "industry", "grade", "tags", "lifecycle_stage", "source",
         "phone", "email", "website", "country", "province", "city", "district", "street",
         "postal_code", "credit_rating", "created_at"),
        {"phone": _phone, "phone_raw": _phone, "email": _email, "birth_date": _hidden},
    ),
    "contact": ExportSpec(
        "contact", Contact, _scoped(contacts),
        ("customer_code", "customer_name", "name", "title", "department", "phones", "emails",
         "is_primary", "preferred_channel", "created_at"),
        {"phones": _phone, "emails": _email, "birthday": _hidden},
        CUSTOMER_OF,
    ),
    "lead": ExportSpec(
        "lead", Lead, _scoped(leads),
        ("name", "company_name", "title", "phone", "email", "source", "status", "score",
         "province", "city", "created_at"),
        {"phone": _phone, "phone_raw": _phone, "email": _email},
    ),
    "product": ExportSpec(
        "product", Product, _products,
        ("code", "name", "category", "unit", "unit_price", "currency", "active", "created_at"),
    ),
    "order": ExportSpec(
        "order", Order, _scoped(orders),
        ("number", "customer_code", "customer_name", "ordered_on", "status", "currency",
         "total_amount", "paid_amount", "refunded_amount", "created_at"),
        related=CUSTOMER_OF,
    ),
}  # fmt: skip


def spec_of(entity: str) -> ExportSpec:
    spec = SPECS.get(entity)
    if spec is None:
        raise DomainError.one("entity", ErrorCode.INVALID, "not an exportable list")
    return spec


def check_columns(spec: ExportSpec, names: list[str] | None) -> list[str]:
    if not names:
        return list(spec.default_columns)
    known = spec.exportable
    bad = [i for i, n in enumerate(names) if n not in known]
    if bad:
        raise DomainError.one(f"columns.{bad[0]}", ErrorCode.INVALID, "no such column to export")
    return list(dict.fromkeys(names))


def with_related(spec: ExportSpec, stmt: Select[Any], names: list[str]) -> Select[Any]:
    """``stmt`` with the related columns among ``names`` added (labelled by their names), each
    related row joined once (outer: a row without one gets an empty cell)."""
    joined: dict[str, Any] = {}
    for name in names:
        if name not in spec.related:
            continue
        fk, model, column = spec.related[name]
        if fk not in joined:
            joined[fk] = aliased(model, name=f"related_{fk}")
            stmt = stmt.outerjoin(joined[fk], joined[fk].id == getattr(spec.model, fk))
        stmt = stmt.add_columns(getattr(joined[fk], column).label(name))
    return stmt


def cell(value: Any, mask: Callable[[Any], Any] | None) -> Any:
    """A value as it goes into a file: masked when it must be, lists of phones or e-mails as
    their numbers or addresses joined with ``; ``."""
    if isinstance(value, list):
        items = [_item(v, mask) for v in value]
        return "; ".join(str(i) for i in items if i not in (None, ""))
    if mask is not None:
        value = mask(value)
    return plain(value)


def _item(value: Any, mask: Callable[[Any], Any] | None) -> Any:
    if isinstance(value, dict):  # {"label","e164","raw"} or {"label","address"}
        value = value.get("e164") or value.get("raw") or value.get("address")
    return mask(value) if mask is not None else plain(value)


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def coerce_filter(spec: Any, columns: Mapping[str, Any]) -> Any:
    """A filter that travelled as JSON back to typed values (dates, ids, amounts) by column."""
    if isinstance(spec, list):
        return [coerce_filter(s, columns) for s in spec]
    if not isinstance(spec, dict):
        return spec
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key in ("and", "or", "not"):
            out[key] = coerce_filter(value, columns)
        elif key in columns and isinstance(value, dict):
            out[key] = {op: _typed(columns[key], v) for op, v in value.items()}
        else:
            out[key] = value
    return out


def _typed(column: Any, value: Any) -> Any:
    if isinstance(value, list):
        return [_typed(column, v) for v in value]
    if not isinstance(value, str):
        return value
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    try:
        if kind is uuid.UUID:
            return uuid.UUID(value)
        if kind is datetime:
            return datetime.fromisoformat(value)
        if kind is date:
            return date.fromisoformat(value)
        if kind is Decimal:
            return Decimal(value)
    except ValueError:
        raise DomainError.one(
            "filter", ErrorCode.INVALID, "a value does not fit its field"
        ) from None
    return value
