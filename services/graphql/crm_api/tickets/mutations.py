"""Service-ticket mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.tickets import inputs as I
from crm_api.tickets.queries import LIST, base
from crm_api.tickets.types import ServiceTicket
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.tickets import service
from crm_core.tickets.models import ServiceTicket as Row


@strawberry.type
class ServiceTicketPayload:
    service_ticket: ServiceTicket | None
    errors: list[UserError]


@strawberry.type
class DestroyServiceTicketPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "ServiceTicket") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> ServiceTicketPayload:
    row, errors = result
    return ServiceTicketPayload(
        service_ticket=ServiceTicket.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class ServiceTicketMutations:
    @strawberry.mutation(extensions=requires("ticket:create"))
    async def create_service_ticket(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateServiceTicketInput
    ) -> ServiceTicketPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, customer_pk, data)

        return _payload(await run(info, work))

    @strawberry.mutation(extensions=requires("ticket:update"))
    async def update_service_ticket(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateServiceTicketInput,
        version: int | None = None,
    ) -> ServiceTicketPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    create_service_tickets = create_many_under_customer_field(
        type_name="ServiceTicket",
        plural="serviceTickets",
        create_input=I.CreateServiceTicketInput,
        gql_type=ServiceTicket,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: ServiceTicket.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="ticket:create",
    )
    update_service_tickets = update_many_field(
        type_name="ServiceTicket",
        plural="serviceTickets",
        lists=LIST,
        filter_input=I.ServiceTicketFilter,
        update_input=I.UpdateServiceTicketInput,
        gql_type=ServiceTicket,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: ServiceTicket.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="ticket:update",
    )

    delete_service_ticket, restore_service_ticket, destroy_service_ticket = lifecycle_fields(
        type_name="ServiceTicket",
        payload=ServiceTicketPayload,
        destroy_payload=DestroyServiceTicketPayload,
        convert=lambda info, row: ServiceTicket.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="ticket",
    )
