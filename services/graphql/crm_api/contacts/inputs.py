"""Contact inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import (
    BooleanFilter,
    DateFilter,
    DateTimeFilter,
    IDFilter,
    StringFilter,
    enum_filter,
)
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"customer_id": "Customer", "id": "Contact"}


@strawberry.input
class ContactFilter:
    and_: list[ContactFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ContactFilter] | None = strawberry.field(name="or", default=None)
    not_: ContactFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    name: StringFilter | None = None
    title: StringFilter | None = None
    department: StringFilter | None = None
    is_primary: BooleanFilter | None = None
    preferred_channel: enum_filter(E.ContactChannelEnum) | None = None  # type: ignore[valid-type]
    birthday: DateFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ContactOrderField(enum.Enum):
    NAME = "name"
    TITLE = "title"
    IS_PRIMARY = "is_primary"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ContactOrderBy:
    field: ContactOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class PhoneInput:
    number: str = strawberry.field(description="Any format; stored as E.164 with the text kept.")
    label: str = "mobile"


@strawberry.input
class EmailInput:
    address: str
    label: str = "work"


@strawberry.input
class SocialAccountInput:
    network: str = strawberry.field(
        description="wechat, qq, dingtalk, weibo, linkedin, whatsapp, telegram, other"
    )
    handle: str


@strawberry.input
class ContactFieldsInput:
    title: str | None = UNSET
    department: str | None = UNSET
    phones: list[PhoneInput] | None = UNSET
    emails: list[EmailInput] | None = UNSET
    social_accounts: list[SocialAccountInput] | None = UNSET
    is_primary: bool | None = UNSET
    preferred_channel: E.ContactChannelEnum | None = UNSET
    preferred_time: str | None = UNSET
    birthday: datetime.date | None = UNSET
    notes: str | None = UNSET


@strawberry.input
class CreateContactInput(ContactFieldsInput):
    name: str


@strawberry.input
class UpdateContactInput(ContactFieldsInput):
    name: str | None = UNSET
