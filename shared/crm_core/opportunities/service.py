"""Opportunity use cases: always on a live customer of the tenant, visible to the writer. The stage
moves along the company's funnel (``funnel.py``); the probability defaults to the stage's; the won
and lost stages set the outcome and ``closed_at``. Every stage entered (the first on create) adds
a stage-history row in the same transaction. Product lines are written as a whole list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, type_coerce
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.opportunities import funnel as funnels
from crm_core.opportunities import repository
from crm_core.opportunities.models import (
    Opportunity,
    OpportunityOutcome,
    OpportunityProduct,
    OpportunityStageHistory,
)
from crm_core.opportunities.schemas import LineFields, OpportunityFields
from crm_core.products import repository as products_repo
from crm_core.products.service import default_currency
from crm_core.requirements.service import check_at_customer_requirement
from crm_core.tenants.models import Tenant
from crm_core.tenants.repository import settings_of
from crm_core.validation import parse

WHAT = "opportunity"
NOT_NULL = ("name", "currency", "stage", "probability", "owner_id")
TEXTS = ("description", "customer_need", "progress", "won_reason", "lost_reason")
CENT = Decimal("0.01")


async def funnel_of(session: AsyncSession, principal: Principal) -> funnels.Funnel:
    return funnels.of(await settings_of(session, principal.tenant.id))


def _fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[LineFields] | None, bool]:
    """The opportunity's own fields, and the lines when the caller gave them."""
    parsed = parse(OpportunityFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("name", "source"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    for name in TEXTS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    has_lines = "products" in fields
    lines = fields.pop("products", None)
    return fields, lines, has_lines


def _refresh_search(o: Opportunity) -> None:
    o.search_text = normalize.search_text(
        o.name, o.source, (o.description or "")[:1000], (o.customer_need or "")[:500]
    )


async def _check_lines(
    session: AsyncSession,
    lines: Sequence[LineFields],
    currency: str,
    offered: frozenset[uuid.UUID] = frozenset(),
) -> list[dict[str, Any]]:
    """Each line's product must be a live product of this company (another company's id is simply
    not found: it is not in this schema); an inactive one only if already on the opportunity."""
    found = {
        p.id: p
        for p in await products_repo.get_many(session, list({ln.product_id for ln in lines}))
    }
    errors: list[FieldError] = []
    out: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        product = found.get(line.product_id)
        if product is None:
            errors.append(
                FieldError(f"products.{i}.product_id", ErrorCode.NOT_FOUND, "no such product")
            )
            continue
        if not product.active and product.id not in offered:
            errors.append(
                FieldError(f"products.{i}.product_id", ErrorCode.INVALID, "the product is inactive")
            )
        price = line.unit_price
        if price is None:
            if product.currency != currency:
                errors.append(
                    FieldError(
                        f"products.{i}.unit_price",
                        ErrorCode.REQUIRED,
                        f"the product is priced in {product.currency}; give the price",
                    )
                )
                continue
            price = product.unit_price
        out.append(
            {
                "product_id": product.id,
                "position": i,
                "quantity": line.quantity,
                "unit_price": price,
            }
        )
    if errors:
        raise DomainError(errors)
    return out


def _lines_snapshot(lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        audit.plain({k: ln[k] for k in ("product_id", "quantity", "unit_price")}) for ln in lines
    ]


def _lines_total(lines: Sequence[Mapping[str, Any]]) -> Decimal:
    total = sum((ln["quantity"] * ln["unit_price"] for ln in lines), Decimal(0))
    return total.quantize(CENT)


async def _write_lines(
    session: AsyncSession, opportunity_id: uuid.UUID, lines: Sequence[Mapping[str, Any]]
) -> None:
    await session.execute(
        delete(OpportunityProduct).where(OpportunityProduct.opportunity_id == opportunity_id)
    )
    session.add_all(OpportunityProduct(opportunity_id=opportunity_id, **ln) for ln in lines)


def _history(
    session: AsyncSession, principal: Principal, o: Opportunity, from_stage: str | None
) -> None:
    session.add(
        OpportunityStageHistory(
            opportunity_id=o.id,
            from_stage=from_stage,
            to_stage=o.stage,
            probability=o.probability,
            expected_amount=o.expected_amount,
            changed_at=datetime.now(UTC),
            changed_by=principal.user_id,
        )
    )


def _enter_stage(
    fields: dict[str, Any], stage: funnels.Stage, *, probability_given: int | None
) -> None:
    """What entering ``stage`` implies: the outcome, closed_at, and the stage's probability unless
    another one is given (won and lost have theirs fixed)."""
    fields["outcome"] = stage.outcome
    if stage.outcome is OpportunityOutcome.open:
        fields["closed_at"] = None
        fields["probability"] = (
            probability_given if probability_given is not None else stage.probability
        )
        return
    if probability_given is not None and probability_given != stage.probability:
        raise DomainError.one(
            "probability", ErrorCode.INVALID, f"a {stage.key} opportunity is {stage.probability}%"
        )
    fields["probability"] = stage.probability
    fields["closed_at"] = datetime.now(UTC)


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> Opportunity:
    fields, lines, _ = _fields(data)
    if not fields.get("name"):
        raise DomainError.one("name", ErrorCode.REQUIRED, "required")
    funnel = await funnel_of(session, principal)
    stage = funnel.first if fields.get("stage") is None else funnel.get(fields["stage"])
    if stage is None or stage.outcome is not OpportunityOutcome.open:
        raise DomainError.one("stage", ErrorCode.INVALID, "an open stage of the company's funnel")
    fields["stage"] = stage.key
    _enter_stage(fields, stage, probability_given=fields.get("probability"))
    if fields.get("currency") is None:
        fields["currency"] = await default_currency(session, principal.tenant.id)
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    # Whoever records it owns it, unless they name a colleague; an integration must name one.
    if fields.get("owner_id") is None:
        if principal.client_id is not None:
            raise DomainError.one("owner_id", ErrorCode.REQUIRED, "required")
        fields["owner_id"] = principal.user_id
    await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("requirement_id") is not None:
        await check_at_customer_requirement(
            session, principal, customer_id, fields["requirement_id"]
        )
    checked = await _check_lines(session, lines or [], fields["currency"])
    if checked and fields.get("expected_amount") is None:
        fields["expected_amount"] = _lines_total(checked)
    opportunity = Opportunity(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(opportunity)
    session.add(opportunity)
    await session.flush()
    await _write_lines(session, opportunity.id, checked)
    _history(session, principal, opportunity, None)
    await session.flush()
    audit.record(
        session,
        principal,
        "create",
        WHAT,
        opportunity.id,
        audit.snapshot(opportunity) | {"products": _lines_snapshot(checked)},
    )
    return opportunity


async def update(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Opportunity:
    """The customer does not change: moving records between customers is a merge's work.
    ``products``, when given, replaces the whole list (an empty list removes every line)."""
    fields, lines, has_lines = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    opportunity = await records.get_for_write(
        session, Opportunity, opportunity_id, expected_version, WHAT, visible=_visible(principal)
    )
    from_stage = opportunity.stage
    new_stage = fields.get("stage", from_stage)
    if new_stage != from_stage:
        funnel = await funnel_of(session, principal)
        stage = funnel.get(new_stage)
        if stage is None or not funnel.allows(from_stage, new_stage):
            raise DomainError.one(
                "stage", ErrorCode.INVALID, f"cannot move from {from_stage} to {new_stage}"
            )
        _enter_stage(fields, stage, probability_given=fields.get("probability"))
    elif (
        "probability" in fields
        and opportunity.outcome is not OpportunityOutcome.open
        and fields["probability"] != opportunity.probability
    ):
        raise DomainError.one(
            "probability", ErrorCode.INVALID, f"a {opportunity.outcome.value} opportunity is fixed"
        )
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("requirement_id") is not None:
        await check_at_customer_requirement(
            session, principal, opportunity.customer_id, fields["requirement_id"]
        )
    extra: dict[str, Any] = {}
    checked: list[dict[str, Any]] | None = None
    if has_lines:
        current = (await repository.lines_of(session, [opportunity.id]))[opportunity.id]
        checked = await _check_lines(
            session,
            lines or [],
            fields.get("currency", opportunity.currency),
            frozenset(ln.product_id for ln in current),
        )
        before = _lines_snapshot([_raw(ln) for ln in current])
        after = _lines_snapshot(checked)
        if before != after:
            extra["products"] = [before, after]
    if checked is not None:
        await _write_lines(session, opportunity.id, checked)
    if extra:
        # The lines are part of the opportunity: its version moves even when only they changed,
        # so a client holding the old version learns that what it saw is stale.
        flag_modified(opportunity, "updated_by")
    updated = await records.apply_update(
        session, principal, opportunity, fields, WHAT, refresh=_refresh_search,
        extra_changes=extra,
    )  # fmt: skip
    if updated.stage != from_stage:
        _history(session, principal, updated, from_stage)
        await session.flush()
    return updated


def _raw(line: OpportunityProduct) -> dict[str, Any]:
    return {"product_id": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price}


async def set_funnel(
    session: AsyncSession, principal: Principal, stages: Sequence[Mapping[str, Any]]
) -> funnels.Funnel:
    """Validate and store the company's funnel. A stage that live open opportunities stand in
    cannot be dropped (they would have no way forward); move them first."""
    funnel = funnels.parse(stages)
    keys = {s.key for s in funnel.stages}
    dropped = sorted((await repository.open_stages_in_use(session)) - keys)
    if dropped:
        raise DomainError.one(
            "stages",
            ErrorCode.INVALID,
            f"open opportunities are in {', '.join(dropped)}; keep those stages",
        )
    # One key of the settings document, changed in the database: a concurrent change of another
    # key (an SLA, the scope rules) is not overwritten.
    await session.execute(
        sql_update(Tenant)
        .where(Tenant.id == principal.tenant.id)
        .values(
            settings=Tenant.settings.op("||")(
                type_coerce({funnels.SETTING: funnel.as_setting()}, JSONB)
            )
        )
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        principal,
        "update",
        "settings",
        principal.tenant.id,
        {funnels.SETTING: funnel.as_setting()},
    )
    return funnel


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(Opportunity, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# restore: Only under a live, visible customer: ``visible`` requires both.
restore = _lifecycle.restore
# destroy: With its lines and stage history (ON DELETE CASCADE).
destroy = _lifecycle.destroy
