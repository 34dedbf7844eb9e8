"""Lead mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.customers.inputs import ID_FIELDS as CUSTOMER_ID_FIELDS
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.leads import inputs as I
from crm_api.leads.queries import LIST, base
from crm_api.leads.types import Lead
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.errors import DomainError, FieldError
from crm_core.identity.principal import Principal
from crm_core.leads import service
from crm_core.leads.models import Lead as Row

MAX_BATCH = 100


@strawberry.type
class LeadPayload:
    lead: Lead | None
    errors: list[UserError]


@strawberry.type
class LeadsPayload:
    leads: list[Lead]
    errors: list[UserError]


@strawberry.type
class DestroyLeadPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect="Lead")[1]


def _payload(info: Info, result: tuple[Row | None, list[UserError]]) -> LeadPayload:
    row, errors = result
    mask = info.context.mask_personal
    return LeadPayload(lead=Lead.from_model(row, mask) if row is not None else None, errors=errors)


@strawberry.type
class LeadMutations:
    @strawberry.mutation(extensions=requires("lead:create"))
    async def create_lead(self, info: Info, input: I.CreateLeadInput) -> LeadPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, data, default_region=region)

        return _payload(info, await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("lead:create")
    )
    async def create_leads(self, info: Info, inputs: list[I.CreateLeadInput]) -> LeadsPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            data = [input_data(i, id_fields=I.ID_FIELDS) for i in inputs]
            return await service.create_many(session, who, data, default_region=region)

        rows, errors = await run(info, work, prefix="inputs")
        mask = info.context.mask_personal
        return LeadsPayload(leads=[Lead.from_model(r, mask) for r in rows or []], errors=errors)

    @strawberry.mutation(extensions=requires("lead:update"))
    async def update_lead(
        self, info: Info, id: strawberry.ID, input: I.UpdateLeadInput, version: int | None = None
    ) -> LeadPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(
                session, who, _pk(id), data, expected_version=version, default_region=region
            )

        return _payload(info, await run(info, work))

    update_leads = update_many_field(
        type_name="Lead",
        plural="leads",
        lists=LIST,
        filter_input=I.LeadFilter,
        update_input=I.UpdateLeadInput,
        gql_type=Lead,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session,
            who,
            pk,
            data,
            expected_version=None,
            default_region=info.context.settings.default_phone_region,
        ),
        convert=lambda info, row: Lead.from_model(row, info.context.mask_personal),
        id_fields=I.ID_FIELDS,
        permission="lead:update",
    )

    delete_lead, restore_lead, destroy_lead = lifecycle_fields(
        type_name="Lead",
        payload=LeadPayload,
        destroy_payload=DestroyLeadPayload,
        convert=lambda info, row: Lead.from_model(row, info.context.mask_personal),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="lead",
    )

    @strawberry.mutation(
        description="Convert a QUALIFIED lead, in one transaction: a new customer made from it "
        "(through the customer rules: validation, cleansing, audit) with the lead's person as its "
        "primary contact, or only the contact at an existing customer (`input.customerId`). The "
        "lead becomes CONVERTED with links to both. Any error writes nothing.",
        extensions=requires("lead:convert"),
    )
    async def convert_lead(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.ConvertLeadInput | None = None,
        version: int | None = None,
    ) -> LeadPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_id = None
            customer_data = None
            if input is not None and input.customer_id not in (UNSET, None):
                customer_id = from_global_id(
                    str(input.customer_id), field="customer_id", expect="Customer"
                )[1]
            if input is not None and input.customer not in (UNSET, None):
                try:
                    customer_data = input_data(input.customer, id_fields=CUSTOMER_ID_FIELDS)
                except DomainError as exc:
                    raise DomainError(
                        [FieldError(f"customer.{e.field}", e.code, e.message) for e in exc.errors]
                    ) from None
            return await service.convert(
                session,
                who,
                _pk(id),
                customer_id=customer_id,
                customer_data=customer_data,
                expected_version=version,
                default_region=region,
                cipher=await info.context.cipher(),
            )

        return _payload(info, await run(info, work))
