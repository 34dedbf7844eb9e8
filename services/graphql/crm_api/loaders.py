"""Per-request DataLoaders. Each batch opens its own short session: sibling resolvers run
concurrently and one AsyncSession must never serve two tasks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from crm_api.activities import loaders as activity_loaders
from crm_api.contracts import loaders as contract_loaders
from crm_api.leads import loaders as lead_loaders
from crm_api.lifecycle import loaders as lifecycle_loaders
from crm_api.opportunities import loaders as opportunity_loaders
from crm_api.orders import loaders as order_loaders
from crm_api.products import loaders as product_loaders
from crm_api.requirements import loaders as requirement_loaders
from crm_api.segments import loaders as segment_loaders
from crm_api.tags import loaders as tag_loaders
from crm_api.visits import loaders as visit_loaders
from crm_core.complaints import repository as complaints_repo
from crm_core.complaints.models import Complaint
from crm_core.contacts import repository as contacts_repo
from crm_core.contacts.models import Contact
from crm_core.contracts import repository as contracts_repo
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.db.engine import TenantDatabase
from crm_core.evaluations import repository as evaluations_repo
from crm_core.evaluations.models import EvaluationCriterion, EvaluationScore, RelationshipEvaluation
from crm_core.followups import repository as followups_repo
from crm_core.followups.models import FollowUp
from crm_core.identity.principal import Principal
from crm_core.interactions import repository as interactions_repo
from crm_core.interactions.models import Interaction
from crm_core.opportunities import repository as opportunities_repo
from crm_core.orders import repository as orders_repo
from crm_core.requirements import repository as requirements_repo
from crm_core.surveys import repository as surveys_repo
from crm_core.surveys.models import SurveyResponse, SurveyTemplate
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import User
from crm_core.tickets import repository as tickets_repo
from crm_core.tickets.models import ServiceTicket


class Loaders:
    def __init__(self, tdb: TenantDatabase, principal: Principal) -> None:
        self._tdb = tdb
        self._principal = principal
        self.customer_by_id = DataLoader(self._customers_by_id)
        self.contacts_by_customer_id = DataLoader(self._contacts_by_customer)
        self.contact_by_id = DataLoader(self._contacts_by_id)
        self.user_by_id = DataLoader(self._users_by_id)
        self.interaction_by_id = DataLoader(self._interactions_by_id)
        self.follow_up_by_id = DataLoader(self._follow_ups_by_id)
        self.complaint_by_id = DataLoader(self._complaints_by_id)
        self.service_ticket_by_id = DataLoader(self._service_tickets_by_id)
        # Keyed by (customer id, per-customer limit): a page of customers is one statement.
        self.interactions_by_customer_id = DataLoader(self._interactions_by_customer)
        self.follow_ups_by_customer_id = DataLoader(self._follow_ups_by_customer)
        self.complaints_by_customer_id = DataLoader(self._complaints_by_customer)
        self.service_tickets_by_customer_id = DataLoader(self._service_tickets_by_customer)
        # Activities, visits and lifecycle history (tenant_0009); batch functions in their packages.
        self.activity_by_id = DataLoader(partial(activity_loaders.activities_by_id, tdb, principal))
        # Keyed by (activity id, limit); only attendees whose customer is in the viewer's scope.
        self.attendees_by_activity_id = DataLoader(
            partial(activity_loaders.attendees_by_activity, tdb, principal)
        )
        self.activity_attendee_by_id = DataLoader(
            partial(activity_loaders.attendees_by_id, tdb, principal)
        )
        self.attendee_count_by_activity_id = DataLoader(
            partial(activity_loaders.attendee_counts, tdb, principal)
        )
        self.activities_by_customer_id = DataLoader(
            partial(activity_loaders.activities_by_customer, tdb, principal)
        )
        self.visit_plan_by_id = DataLoader(partial(visit_loaders.plans_by_id, tdb, principal))
        self.visit_record_by_id = DataLoader(partial(visit_loaders.records_by_id, tdb, principal))
        self.visit_record_by_plan_id = DataLoader(
            partial(visit_loaders.records_by_plan, tdb, principal)
        )
        self.visit_plans_by_customer_id = DataLoader(
            partial(visit_loaders.plans_by_customer, tdb, principal)
        )
        self.visit_records_by_customer_id = DataLoader(
            partial(visit_loaders.records_by_customer, tdb, principal)
        )
        self.lifecycle_event_by_id = DataLoader(
            partial(lifecycle_loaders.events_by_id, tdb, principal)
        )
        self.lifecycle_events_by_customer_id = DataLoader(
            partial(lifecycle_loaders.events_by_customer, tdb, principal)
        )
        # Evaluations and survey templates (tenant_0010).
        self.relationship_evaluation_by_id = DataLoader(self._relationship_evaluations_by_id)
        self.relationship_evaluations_by_customer_id = DataLoader(self._evaluations_by_customer)
        self.evaluation_scores_by_evaluation_id = DataLoader(self._scores_by_evaluation)
        # Deleted criteria too: a past score keeps naming its criterion (queries hide them).
        self.evaluation_criterion_by_id = DataLoader(self._evaluation_criteria_by_id)
        self.survey_template_by_id = DataLoader(self._survey_templates_by_id)
        self.survey_response_by_id = DataLoader(self._survey_responses_by_id)
        # Leads, tags and segments (tenant_0008); the batch functions live in their packages.
        self.lead_by_id = DataLoader(partial(lead_loaders.leads_by_id, tdb, principal))
        self.tag_by_id = DataLoader(partial(tag_loaders.tags_by_id, tdb, principal))
        self.tag_customer_count = DataLoader(partial(tag_loaders.customer_counts, tdb, principal))
        self.tag_by_name = DataLoader(partial(tag_loaders.tags_by_name, tdb, principal))
        # Keyed by (customer id, per-customer limit), as the other related lists.
        self.leads_by_converted_customer_id = DataLoader(
            partial(lead_loaders.leads_by_converted_customer, tdb, principal)
        )
        self.segment_by_id = DataLoader(partial(segment_loaders.segments_by_id, tdb, principal))
        # Keyed by (segment id, filter JSON): a page of segments is counted in one statement.
        self.segment_customer_count = DataLoader(
            partial(segment_loaders.customer_counts, tdb, principal)
        )
        # Products, requirement analyses, opportunities (tenant_0006); batch functions in their
        # packages. Per-customer lists are keyed by (customer id, limit) like the others.
        self.product_by_id = DataLoader(partial(product_loaders.products_by_id, tdb, principal))
        self.line_product_by_id = DataLoader(
            partial(product_loaders.line_products_by_id, tdb, principal)
        )
        self.requirement_analysis_by_id = DataLoader(
            partial(requirement_loaders.requirement_analyses_by_id, tdb, principal)
        )
        self.requirement_analyses_by_customer_id = DataLoader(
            partial(self._children, fetch=requirements_repo.by_customers)
        )
        self.opportunity_by_id = DataLoader(
            partial(opportunity_loaders.opportunities_by_id, tdb, principal)
        )
        self.opportunities_by_customer_id = DataLoader(
            partial(self._children, fetch=opportunities_repo.by_customers)
        )
        self.open_opportunities_by_customer_id = DataLoader(
            partial(self._children, fetch=opportunities_repo.open_by_customers)
        )
        self.opportunity_lines_by_opportunity_id = DataLoader(
            partial(opportunity_loaders.lines_by_opportunity_id, tdb, principal)
        )
        self.stage_history_by_opportunity_id = DataLoader(
            partial(opportunity_loaders.stage_history_by_opportunity_id, tdb, principal)
        )
        # Contracts, deliveries and orders (tenant_0007); batch functions in their packages.
        # Per-customer and per-contract lists are keyed by (parent id, limit).
        self.contract_by_id = DataLoader(partial(contract_loaders.contracts_by_id, tdb, principal))
        self.contracts_by_customer_id = DataLoader(
            partial(self._children, fetch=contracts_repo.by_customers)
        )
        self.contract_delivery_by_id = DataLoader(
            partial(contract_loaders.deliveries_by_id, tdb, principal)
        )
        self.deliveries_by_contract_id = DataLoader(
            partial(contract_loaders.deliveries_by_contract, tdb, principal)
        )
        self.order_by_id = DataLoader(partial(order_loaders.orders_by_id, tdb, principal))
        self.orders_by_customer_id = DataLoader(
            partial(self._children, fetch=orders_repo.by_customers)
        )
        self.orders_by_contract_id = DataLoader(partial(order_loaders.orders_by_contract, tdb))
        self.order_lines_by_order_id = DataLoader(partial(order_loaders.lines_by_order, tdb))
        self.order_payments_by_order_id = DataLoader(partial(order_loaders.payments_by_order, tdb))
        self.order_refunds_by_order_id = DataLoader(partial(order_loaders.refunds_by_order, tdb))

    async def _customers_by_id(self, ids: Sequence[uuid.UUID]) -> list[Customer | None]:
        async with self._tdb.read() as session:
            rows = await customers_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _contacts_by_id(self, ids: Sequence[uuid.UUID]) -> list[Contact | None]:
        async with self._tdb.read() as session:
            rows = await contacts_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _contacts_by_customer(self, ids: Sequence[uuid.UUID]) -> list[list[Contact]]:
        async with self._tdb.read() as session:
            grouped = await contacts_repo.by_customers(session, ids)
        return [grouped.get(i, []) for i in ids]

    async def _interactions_by_id(self, ids: Sequence[uuid.UUID]) -> list[Interaction | None]:
        async with self._tdb.read() as session:
            rows = await interactions_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _follow_ups_by_id(self, ids: Sequence[uuid.UUID]) -> list[FollowUp | None]:
        async with self._tdb.read() as session:
            rows = await followups_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _complaints_by_id(self, ids: Sequence[uuid.UUID]) -> list[Complaint | None]:
        async with self._tdb.read() as session:
            rows = await complaints_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _service_tickets_by_id(self, ids: Sequence[uuid.UUID]) -> list[ServiceTicket | None]:
        async with self._tdb.read() as session:
            rows = await tickets_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _interactions_by_customer(
        self, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[Interaction]]:
        return await self._children(keys, interactions_repo.by_customers)

    async def _follow_ups_by_customer(
        self, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[FollowUp]]:
        return await self._children(keys, followups_repo.by_customers)

    async def _complaints_by_customer(
        self, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[Complaint]]:
        return await self._children(keys, complaints_repo.by_customers)

    async def _service_tickets_by_customer(
        self, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[ServiceTicket]]:
        return await self._children(keys, tickets_repo.by_customers)

    async def _children(
        self,
        keys: Sequence[tuple[uuid.UUID, int]],
        fetch: Callable[..., Awaitable[dict[uuid.UUID, list[Any]]]],
    ) -> list[list[Any]]:
        """One statement per distinct limit in the batch (one, unless aliases ask for more)."""
        found: dict[tuple[uuid.UUID, int], list[Any]] = {}
        async with self._tdb.read() as session:
            for limit in sorted({limit for _, limit in keys}):
                ids = list(dict.fromkeys(cid for cid, lim in keys if lim == limit))
                grouped = await fetch(session, ids, limit=limit)
                found.update({(cid, limit): grouped.get(cid, []) for cid in ids})
        return [found[k] for k in keys]

    async def _relationship_evaluations_by_id(
        self, ids: Sequence[uuid.UUID]
    ) -> list[RelationshipEvaluation | None]:
        async with self._tdb.read() as session:
            rows = await evaluations_repo.get_many(session, ids, scope=self._principal.data_scope)
        return _in_order(ids, {r.id: r for r in rows})

    async def _evaluations_by_customer(
        self, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[RelationshipEvaluation]]:
        return await self._children(keys, evaluations_repo.by_customers)

    async def _scores_by_evaluation(self, ids: Sequence[uuid.UUID]) -> list[list[EvaluationScore]]:
        # Only asked for evaluations the viewer already loaded through a scoped path.
        async with self._tdb.read() as session:
            grouped = await evaluations_repo.scores_by_evaluations(session, ids)
        return [grouped.get(i, []) for i in ids]

    async def _evaluation_criteria_by_id(
        self, ids: Sequence[uuid.UUID]
    ) -> list[EvaluationCriterion | None]:
        async with self._tdb.read() as session:
            rows = await evaluations_repo.get_criteria(session, ids, include_deleted=True)
        return _in_order(ids, {r.id: r for r in rows})

    async def _survey_responses_by_id(
        self, ids: Sequence[uuid.UUID]
    ) -> list[SurveyResponse | None]:
        async with self._tdb.read() as session:
            rows = await surveys_repo.responses_by_ids(
                session, ids, scope=self._principal.data_scope
            )
        found = {r.id: r for r in rows}
        return [found.get(i) for i in ids]

    async def _survey_templates_by_id(
        self, ids: Sequence[uuid.UUID]
    ) -> list[SurveyTemplate | None]:
        async with self._tdb.read() as session:
            rows = await surveys_repo.get_many(session, ids)
        return _in_order(ids, {r.id: r for r in rows})

    async def _users_by_id(self, ids: Sequence[uuid.UUID]) -> list[User | None]:
        # Only members of this tenant: an owner id from elsewhere resolves to nothing.
        async with self._tdb.read() as session:
            rows = await tenants_repo.users_in_tenant(session, self._principal.tenant.id, ids)
        return _in_order(ids, {r.id: r for r in rows})


def _in_order(ids: Sequence[uuid.UUID], found: dict[uuid.UUID, Any]) -> list[Any]:
    return [found.get(i) for i in ids]
