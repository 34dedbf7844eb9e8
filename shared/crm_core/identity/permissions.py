"""The permission matrix: which role may do what. Declared on each GraphQL field, enforced there and
in workers. The identity work will make it per tenant; this is the product default.

Every entity gets the generic verbs (read; create, update, delete, restore; destroy, export,
merge) by role; the exceptions below say why each departs from that.
"""

from __future__ import annotations

from crm_core.tenants.models import Role

ENTITIES: tuple[str, ...] = (
    # The customer record and what hangs off it.
    "customer", "contact", "interaction", "followup", "complaint", "ticket",
    "requirement", "opportunity", "contract", "order", "visit_plan", "visit_record",
    "evaluation",
    # Company-wide records.
    "product", "lead", "tag", "segment", "activity", "survey",
)  # fmt: skip
READ_ACTIONS = ("read",)
WRITE_ACTIONS = ("create", "update", "delete", "restore")
ADMIN_ACTIONS = ("destroy", "export", "merge")


def _grant(entities: tuple[str, ...], actions: tuple[str, ...]) -> set[str]:
    return {f"{e}:{a}" for e in entities for a in actions}


READ_ALL = _grant(ENTITIES, READ_ACTIONS) | {
    # Lifecycle history is written only by the customer service as a stage changes; whoever
    # reads customers reads it.
    "lifecycle:read",
    # Background jobs: everyone sees (and may cancel or re-run) the jobs they started.
    "job:read",
}
# Tag customers in one's scope; convert a lead (it creates the customer and its contact); take
# customers from the shared pool (公海) and put one's own back.
SALES_WORK = {"tag:assign", "lead:convert", "customer:claim"}
# Rename or destroy tags (that rewrites every customer's tags) and edit others' shared segments.
CURATION = {"segment:manage"}
# Invite customers to a survey (sendSurvey), and read sends, responses and their statistics
# (customers' verdicts on named agents: for those who lead the service, not every member).
SURVEY_WORK = {"survey:send", "survey:results"}
_ALL = (
    READ_ALL
    | _grant(ENTITIES, WRITE_ACTIONS + ADMIN_ACTIONS)
    | SALES_WORK
    | CURATION
    | {
        "customer:transfer",
        "users:manage",
        "settings:manage",
        "personal_data:read",
        # Create, rotate and revoke the company's API clients (owner and admin only).
        "api_clients:manage",
        # See, cancel and re-run every job of the company, dead letters included.
        "job:manage",
    }
    | SURVEY_WORK
)
MATRIX: dict[Role, frozenset[str]] = {
    Role.owner: frozenset(_ALL),
    Role.admin: frozenset(_ALL),
    Role.manager: frozenset(
        READ_ALL
        | _grant(ENTITIES, (*WRITE_ACTIONS, "export", "merge"))
        | SALES_WORK
        | CURATION
        | SURVEY_WORK
        | {"personal_data:read", "customer:transfer"}
    ),
    Role.sales: frozenset(
        READ_ALL
        # The catalogue (products and their prices), the tag catalogue and the survey templates
        # are company configuration: a rep uses them (quotes prices on an opportunity's lines,
        # assigns tags) but does not shape them.
        | _grant(tuple(e for e in ENTITIES if e not in ("product", "tag", "survey")), WRITE_ACTIONS)
        # Exports run inside the data scope: a rep takes out only the records it already sees.
        | _grant(("customer", "contact", "lead", "order"), ("export",))
        | SALES_WORK
        | {"personal_data:read"}
    ),
    Role.service: frozenset(
        # Service agents talk to customers too: they log their contacts and follow-ups, take in
        # and handle complaints and after-sales tickets, and keep their own saved segments.
        READ_ALL
        | _grant(
            ("contact", "interaction", "followup", "complaint", "ticket"), ("create", "update")
        )
        | _grant(("segment",), WRITE_ACTIONS)
    ),
    Role.viewer: frozenset(READ_ALL),
}


def allows(role: Role, permission: str) -> bool:
    return permission in MATRIX.get(role, frozenset())
