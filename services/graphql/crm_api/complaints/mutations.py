"""Complaint mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.complaints import inputs as I
from crm_api.complaints.queries import LIST, base
from crm_api.complaints.types import Complaint
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.complaints import service
from crm_core.complaints.models import Complaint as Row
from crm_core.identity.principal import Principal


@strawberry.type
class ComplaintPayload:
    complaint: Complaint | None
    errors: list[UserError]


@strawberry.type
class DestroyComplaintPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "Complaint") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> ComplaintPayload:
    row, errors = result
    return ComplaintPayload(
        complaint=Complaint.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class ComplaintMutations:
    @strawberry.mutation(extensions=requires("complaint:create"))
    async def create_complaint(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateComplaintInput
    ) -> ComplaintPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, customer_pk, data)

        return _payload(await run(info, work))

    @strawberry.mutation(extensions=requires("complaint:update"))
    async def update_complaint(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateComplaintInput,
        version: int | None = None,
    ) -> ComplaintPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    update_complaints = update_many_field(
        type_name="Complaint",
        plural="complaints",
        lists=LIST,
        filter_input=I.ComplaintFilter,
        update_input=I.UpdateComplaintInput,
        gql_type=Complaint,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: Complaint.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="complaint:update",
    )

    create_complaints = create_many_under_customer_field(
        type_name="Complaint",
        plural="complaints",
        create_input=I.CreateComplaintInput,
        gql_type=Complaint,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: Complaint.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="complaint:create",
    )

    delete_complaint, restore_complaint, destroy_complaint = lifecycle_fields(
        type_name="Complaint",
        payload=ComplaintPayload,
        destroy_payload=DestroyComplaintPayload,
        convert=lambda info, row: Complaint.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="complaint",
    )
