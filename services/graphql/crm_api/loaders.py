"""Per-request DataLoaders. Each batch opens its own short session: sibling resolvers run
concurrently and one AsyncSession must never serve two tasks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from crm_core.complaints import repository as complaints_repo
from crm_core.complaints.models import Complaint
from crm_core.contacts import repository as contacts_repo
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.db.engine import TenantDatabase
from crm_core.followups import repository as followups_repo
from crm_core.followups.models import FollowUp
from crm_core.identity.principal import Principal
from crm_core.interactions import repository as interactions_repo
from crm_core.interactions.models import Interaction
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

    async def _users_by_id(self, ids: Sequence[uuid.UUID]) -> list[User | None]:
        # Only members of this tenant: an owner id from elsewhere resolves to nothing.
        async with self._tdb.read() as session:
            rows = await tenants_repo.users_in_tenant(session, self._principal.tenant.id, ids)
        return _in_order(ids, {r.id: r for r in rows})


def _in_order(ids: Sequence[uuid.UUID], found: dict[uuid.UUID, Any]) -> list[Any]:
    return [found.get(i) for i in ids]
