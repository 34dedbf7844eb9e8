"""What the identity resolvers take from the request: the caller's address and client, the
throttle, and the rule that only a signed-in person (not an API client) manages a session."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from crm_api.context import Info
from crm_api.errors import graphql_error
from crm_core.errors import Forbidden, Unauthenticated
from crm_core.identity.principal import Principal
from crm_core.identity.throttle import Throttle


def client_ip(info: Info) -> str | None:
    """The peer address as the ASGI server reports it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides which X-Forwarded-For to believe)."""
    request = info.context.request
    return request.client.host if request is not None and request.client else None


def client_info(info: Info) -> str | None:
    """Shown to the user in a list of their sign-ins one day; never trusted for anything."""
    request = info.context.request
    agent = request.headers.get("user-agent") if request is not None else None
    return agent[:200] if agent else None


def throttle(info: Info) -> Throttle:
    found = info.context.app.throttle
    if found is None:
        raise RuntimeError("the gateway was started without a sign-in throttle")
    return found


def person(info: Info) -> Principal:
    """The signed-in person (``SignedInPerson`` has already refused anyone else)."""
    return info.context.require_principal()


class SignedInPerson(BasePermission):
    """A user with a session; API clients have no password and no companies to switch between.

    Raises instead of returning False so the message and code are chosen per call without
    mutating this instance, which every request of the field shares."""

    message = "sign-in required"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise graphql_error(Unauthenticated(info.context.auth_error or "sign-in required"))
        if principal.client_id is not None:
            raise graphql_error(Forbidden("only a signed-in person can do this"))
        return True


def signed_in_person() -> list[FieldExtension]:
    return [PermissionExtension(permissions=[SignedInPerson()], use_directives=False)]
