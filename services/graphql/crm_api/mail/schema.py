"""GraphQL: the addresses this company does not mail (``settings:manage``).

An opt-out (the unsubscribe link, or an admin) stops notifications; a bounce stops every mail.
An admin may suppress an address by hand (recorded as an opt-out) and lift either kind.
"""

from __future__ import annotations

import datetime
import enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError, as_graphql_errors
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_core.identity.principal import Principal
from crm_core.mail import outbox
from crm_core.mail.models import MailSuppression as Row
from crm_core.mail.models import SuppressionReason

PERMISSION = "settings:manage"
MAX_PAGE = 500


@strawberry.enum(description="Why an address is not mailed.")
class MailSuppressionReason(enum.Enum):
    OPT_OUT = "opt_out"
    BOUNCE = "bounce"


@strawberry.type(description="An address this company does not mail.")
class MailSuppression:
    address: str
    reason: MailSuppressionReason
    detail: str | None
    bounces: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def from_model(cls, row: Row) -> MailSuppression:
        return cls(
            address=row.address,
            reason=MailSuppressionReason(row.reason.value),
            detail=row.detail,
            bounces=row.bounces,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class MailSuppressionPayload:
    address: str | None
    removed: int = strawberry.field(description="Suppressions lifted (unsuppress only).")
    errors: list[UserError]


@strawberry.type
class MailQueries:
    @strawberry.field(
        description="Suppressed addresses, most recently changed first.",
        extensions=requires(PERMISSION),
    )
    async def mail_suppressions(
        self,
        info: Info,
        reason: MailSuppressionReason | None = None,
        search: str | None = None,
        first: int = 100,
    ) -> list[MailSuppression]:
        async def load() -> list[MailSuppression]:
            async with info.context.tenant_db.read() as session:
                rows = await outbox.list_suppressions(
                    session,
                    reason=SuppressionReason(reason.value) if reason else None,
                    address=(search or "")[:254] or None,
                    limit=max(1, min(first, MAX_PAGE)),
                )
            return [MailSuppression.from_model(r) for r in rows]

        return await as_graphql_errors(load)


@strawberry.type
class MailMutations:
    @strawberry.mutation(
        description="Stop notifications to an address (recorded as an opt-out).",
        extensions=requires(PERMISSION),
    )
    async def suppress_mail_address(self, info: Info, address: str) -> MailSuppressionPayload:
        async def work(session: AsyncSession, who: Principal) -> str:
            normal = outbox.normalize_address(address, "address")
            await outbox.suppress(
                session, normal, SuppressionReason.opt_out, f"by an admin ({who.user_id})"
            )
            return normal

        done, errors = await run(info, work, prefix="")
        return MailSuppressionPayload(address=done, removed=0, errors=errors)

    @strawberry.mutation(
        description="Mail an address again: lifts its opt-out, and with `clearBounce` its bounce.",
        extensions=requires(PERMISSION),
    )
    async def unsuppress_mail_address(
        self, info: Info, address: str, clear_bounce: bool = True
    ) -> MailSuppressionPayload:
        reasons = (SuppressionReason.opt_out,) + (
            (SuppressionReason.bounce,) if clear_bounce else ()
        )

        async def work(session: AsyncSession, who: Principal) -> tuple[str, int]:
            normal = outbox.normalize_address(address, "address")
            return normal, await outbox.unsuppress(session, normal, reasons)

        done, errors = await run(info, work, prefix="")
        return MailSuppressionPayload(
            address=done[0] if done else None, removed=done[1] if done else 0, errors=errors
        )
