"""Permissions declared on fields; each shows in the SDL as ``@requires(permission: "…")``."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="The permission a caller's role needs to use this field.",
)
class Requires:
    permission: str


class HasPermission(BasePermission):
    def __init__(self, permission: str) -> None:
        self.permission = permission
        self.message = f"your role lacks {permission}"
        self.error_extensions = {"code": "FORBIDDEN"}
        self._directive = Requires(permission=permission)

    @property
    def schema_directive(self) -> object:
        return self._directive

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            # Raised rather than stored on self: one permission object serves concurrent requests.
            raise GraphQLError(
                info.context.auth_error or "sign-in required",
                extensions={"code": "UNAUTHENTICATED"},
            )
        return bool(principal.allows(self.permission))


def requires(permission: str) -> list[FieldExtension]:
    """``@strawberry.field(extensions=requires("customer:read"))``"""
    return [PermissionExtension(permissions=[HasPermission(permission)])]
