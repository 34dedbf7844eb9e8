"""The Opportunity type, with its product lines, stage history and the funnel's stages."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.products.types import Product
from crm_api.related import customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.opportunities import funnel as funnels
from crm_core.opportunities.models import Opportunity as M
from crm_core.opportunities.models import OpportunityProduct, OpportunityStageHistory

if TYPE_CHECKING:
    from crm_api.customers.types import Customer
    from crm_api.requirements.types import RequirementAnalysis

FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "description": Col(M.description, filterable=False),
    "customer_need": Col(M.customer_need, filterable=False),
    "expected_amount": Col(M.expected_amount, sortable=True),
    "currency": Col(M.currency),
    "expected_close_on": Col(M.expected_close_on, sortable=True),
    "stage": Col(M.stage, sortable=True),
    "probability": Col(M.probability, sortable=True),
    "source": Col(M.source, sortable=True),
    "progress": Col(M.progress, filterable=False),
    "outcome": Col(M.outcome, E.OpportunityOutcomeEnum),
    "won_reason": Col(M.won_reason, filterable=False),
    "lost_reason": Col(M.lost_reason, filterable=False),
    "closed_at": Col(M.closed_at, sortable=True),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "requirement_id": Col(M.requirement_id),
    "owner_id": Col(M.owner_id),
}


@strawberry.type(description="A stage of the company's sales funnel.")
class OpportunityStage:
    key: str
    name: str
    probability: int = strawberry.field(description="Default win probability in this stage, %.")
    next: list[str] = strawberry.field(
        description="Stages it may move to (besides `lost`, open to every open stage)."
    )
    outcome: E.OpportunityOutcomeEnum = strawberry.field(
        description="OPEN, or WON/LOST for the final stages."
    )

    @classmethod
    def from_stage(cls, stage: funnels.Stage) -> OpportunityStage:
        return cls(
            key=stage.key,
            name=stage.name,
            probability=stage.probability,
            next=list(stage.next),
            outcome=E.OpportunityOutcomeEnum(stage.outcome.value),
        )


@strawberry.type(description="A product on an opportunity: how many, at what price.")
class OpportunityLine:
    quantity: Decimal
    unit_price: Decimal
    _product_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="quantity × unitPrice, in the opportunity's currency.")
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))

    @strawberry.field(
        description="The product (also when since deleted from the catalogue).",
        extensions=requires("product:read"),
    )
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.line_product_by_id.load(self._product_id)
        return Product.from_model(row) if row is not None else None

    @classmethod
    def from_model(cls, row: OpportunityProduct) -> OpportunityLine:
        return cls(quantity=row.quantity, unit_price=row.unit_price, _product_id=row.product_id)


@strawberry.type(description="A stage the opportunity entered (the first one on creation).")
class OpportunityStageChange:
    from_stage: str | None
    to_stage: str
    probability: int
    expected_amount: Decimal | None
    changed_at: datetime.datetime
    _changed_by: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Who moved it.")
    async def changed_by(self, info: Info) -> User | None:
        return await user_of(info, self._changed_by)

    @classmethod
    def from_model(cls, row: OpportunityStageHistory) -> OpportunityStageChange:
        return cls(
            from_stage=row.from_stage,
            to_stage=row.to_stage,
            probability=row.probability,
            expected_amount=row.expected_amount,
            changed_at=row.changed_at,
            _changed_by=row.changed_by,
        )


@strawberry.type(
    description="A sales opportunity (销售机会): the deal, its products, funnel stage and "
    "probability, and how it ended."
)
class Opportunity(Node):
    name: str
    description: str | None
    customer_need: str | None
    expected_amount: Decimal | None
    currency: str = strawberry.field(description="ISO 4217.")
    expected_close_on: datetime.date | None
    stage: str = strawberry.field(description="A key of the company's funnel (opportunityFunnel).")
    probability: int = strawberry.field(description="Win probability, %; the stage's by default.")
    source: str | None
    progress: str | None
    outcome: E.OpportunityOutcomeEnum
    won_reason: str | None
    lost_reason: str | None
    closed_at: datetime.datetime | None = strawberry.field(description="When it was won or lost.")
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _pk: strawberry.Private[uuid.UUID]
    _customer_id: strawberry.Private[uuid.UUID]
    _requirement_id: strawberry.Private[uuid.UUID | None]
    _owner_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> Opportunity:
        return cls(
            id=strawberry.ID(to_global_id("Opportunity", row.id)),
            _pk=row.id,
            _customer_id=row.customer_id,
            _requirement_id=row.requirement_id,
            _owner_id=row.owner_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="The customer.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(
        description="The analysed need it answers.", extensions=requires("requirement:read")
    )
    async def requirement(
        self, info: Info
    ) -> Annotated[RequirementAnalysis, strawberry.lazy("crm_api.requirements.types")] | None:
        from crm_api.requirements.types import RequirementAnalysis

        if self._requirement_id is None:
            return None
        row = await info.context.loaders.requirement_analysis_by_id.load(self._requirement_id)
        return RequirementAnalysis.from_model(row) if row is not None else None

    @strawberry.field(description="Who works it.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)

    @strawberry.field(description="The products offered, in order.")
    async def products(self, info: Info) -> list[OpportunityLine]:
        rows = await info.context.loaders.opportunity_lines_by_opportunity_id.load(self._pk)
        return [OpportunityLine.from_model(r) for r in rows]

    @strawberry.field(description="The stages it entered, oldest first.")
    async def stage_history(self, info: Info) -> list[OpportunityStageChange]:
        rows = await info.context.loaders.stage_history_by_opportunity_id.load(self._pk)
        return [OpportunityStageChange.from_model(r) for r in rows]
