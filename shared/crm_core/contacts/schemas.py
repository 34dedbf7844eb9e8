"""What a caller may write into a contact."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_core.contacts.models import ContactChannel

Label = Annotated[str, StringConstraints(min_length=1, max_length=30)]


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    label: Label = "mobile"
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    label: Label = "work"
    address: Annotated[str, StringConstraints(min_length=1, max_length=254)]


class SocialAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    network: Literal[
        "wechat", "qq", "dingtalk", "weibo", "linkedin", "whatsapp", "telegram", "other"
    ]
    handle: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    title: Annotated[str, StringConstraints(max_length=120)] | None = None
    department: Annotated[str, StringConstraints(max_length=120)] | None = None
    phones: list[PhoneIn] | None = Field(None, max_length=10)
    emails: list[EmailIn] | None = Field(None, max_length=10)
    social_accounts: list[SocialAccount] | None = Field(None, max_length=10)
    is_primary: bool | None = None
    preferred_channel: ContactChannel | None = None
    preferred_time: Annotated[str, StringConstraints(max_length=120)] | None = None
    birthday: date | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
