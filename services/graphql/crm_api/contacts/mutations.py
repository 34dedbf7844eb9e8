"""Contact mutations."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.contacts import inputs as I
from crm_api.contacts.queries import LIST, base
from crm_api.contacts.types import Contact
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.contacts import service
from crm_core.contacts.models import Contact as Row
from crm_core.identity.principal import Principal


@strawberry.type
class ContactPayload:
    contact: Contact | None
    errors: list[UserError]


@strawberry.type
class DestroyContactPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "Contact") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(info: Info, result: tuple[Row | None, list[UserError]]) -> ContactPayload:
    row, errors = result
    mask = info.context.mask_personal
    return ContactPayload(
        contact=Contact.from_model(row, mask) if row is not None else None, errors=errors
    )


@strawberry.type
class ContactMutations:
    @strawberry.mutation(extensions=requires("contact:create"))
    async def create_contact(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateContactInput
    ) -> ContactPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            return await service.create(
                session, who, customer_pk, input_data(input), default_region=region
            )

        return _payload(info, await run(info, work))

    @strawberry.mutation(extensions=requires("contact:update"))
    async def update_contact(
        self, info: Info, id: strawberry.ID, input: I.UpdateContactInput, version: int | None = None
    ) -> ContactPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update(
                session,
                who,
                _pk(id),
                input_data(input),
                expected_version=version,
                default_region=region,
            )

        return _payload(info, await run(info, work))

    create_contacts = create_many_under_customer_field(
        type_name="Contact",
        plural="contacts",
        create_input=I.CreateContactInput,
        gql_type=Contact,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session,
            who,
            customer_pk,
            data,
            default_region=info.context.settings.default_phone_region,
        ),
        convert=lambda info, row: Contact.from_model(row, info.context.mask_personal),
        id_fields={},
        permission="contact:create",
    )
    update_contacts = update_many_field(
        type_name="Contact",
        plural="contacts",
        lists=LIST,
        filter_input=I.ContactFilter,
        update_input=I.UpdateContactInput,
        gql_type=Contact,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session,
            who,
            pk,
            data,
            expected_version=None,
            default_region=info.context.settings.default_phone_region,
        ),
        convert=lambda info, row: Contact.from_model(row, info.context.mask_personal),
        id_fields={},
        permission="contact:update",
    )

    delete_contact, restore_contact, destroy_contact = lifecycle_fields(
        type_name="Contact",
        payload=ContactPayload,
        destroy_payload=DestroyContactPayload,
        convert=lambda info, row: Contact.from_model(row, info.context.mask_personal),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="contact",
        delete_description=None,
        destroy_description=None,
    )
