"""The permission matrix: which role may do what. Declared on each GraphQL field, enforced there and
in workers. The identity work will make it per tenant; this is the product default."""

from __future__ import annotations

from crm_core.tenants.models import Role

ENTITIES = ("customer", "contact", "interaction", "followup", "complaint", "ticket")
READ_ACTIONS = ("read",)
WRITE_ACTIONS = ("create", "update", "delete", "restore")
ADMIN_ACTIONS = ("destroy", "export", "merge")


def _grant(entities: tuple[str, ...], actions: tuple[str, ...]) -> set[str]:
    return {f"{e}:{a}" for e in entities for a in actions}


_ALL = _grant(ENTITIES, READ_ACTIONS + WRITE_ACTIONS + ADMIN_ACTIONS) | {
    "customer:transfer",
    "users:manage",
    "settings:manage",
    "personal_data:read",
    # Create, rotate and revoke the company's API clients (owner and admin only).
    "api_clients:manage",
}
MATRIX: dict[Role, frozenset[str]] = {
    Role.owner: frozenset(_ALL),
    Role.admin: frozenset(_ALL),
    Role.manager: frozenset(
        _grant(ENTITIES, READ_ACTIONS + WRITE_ACTIONS + ("export", "merge"))
        | {"personal_data:read", "customer:transfer"}
    ),
    Role.sales: frozenset(_grant(ENTITIES, READ_ACTIONS + WRITE_ACTIONS) | {"personal_data:read"}),
    Role.service: frozenset(
        # Service agents talk to customers too: they log their contacts and follow-ups, and they
        # take in and handle complaints and after-sales tickets.
        _grant(ENTITIES, READ_ACTIONS)
        | _grant(
            ("contact", "interaction", "followup", "complaint", "ticket"), ("create", "update")
        )
    ),
    Role.viewer: frozenset(_grant(ENTITIES, READ_ACTIONS)),
}


def allows(role: Role, permission: str) -> bool:
    return permission in MATRIX.get(role, frozenset())
