"""The User type as other tenants' records see it (owner, created by)."""

from __future__ import annotations

import strawberry

from crm_api.relay import Node, to_global_id
from crm_core.tenants.models import User as UserModel


@strawberry.type(description="A member of the company.")
class User(Node):
    name: str
    email: str

    @classmethod
    def from_model(cls, row: UserModel) -> User:
        return cls(id=strawberry.ID(to_global_id("User", row.id)), name=row.name, email=row.email)
