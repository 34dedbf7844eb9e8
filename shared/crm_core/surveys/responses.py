"""The public side of a survey: what a link opens, and storing the one response it allows.

No login: the signed token is the credential (``crm_core.surveys.links``). A token is checked in
this order, each failure with its own answer so a person knows what happened: malformed, unknown
tenant, wrong MAC, unknown send or hash mismatch → *invalid* (the same answer for all of these, so
nothing is learnt by probing); answered → *used*; past its expiry → *expired*. Only then is the
tenant's schema touched, through the tenant's own session: a token minted for tenant A names A and
verifies only under A's key, so it can never write into B.
"""

from __future__ import annotations

import enum
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.identity.throttle import client_network
from crm_core.security.tenant_keys import TenantCipher, TenantKeys
from crm_core.surveys import answers as answers_mod
from crm_core.surveys import links
from crm_core.surveys.models import (
    SurveyResponse,
    SurveySend,
    SurveySendStatus,
    SurveyTemplate,
)
from crm_core.tenancy import TenantRef
from crm_core.tenants.service import active_ref


class LinkState(enum.StrEnum):
    open = "open"
    invalid = "invalid"
    used = "used"
    expired = "expired"


@dataclass(frozen=True, slots=True)
class Opened:
    state: LinkState
    tenant: TenantRef | None = None
    cipher: TenantCipher | None = None
    send_id: uuid.UUID | None = None
    locale: str = "zh"
    # What the page shows (copied out of the rows: the session is gone by then).
    survey: dict[str, Any] | None = None


INVALID = Opened(LinkState.invalid)


def _state(send: SurveySend, claims: links.LinkClaims, now: datetime) -> LinkState:
    if send.token_hash is None or not hmac.compare_digest(
        send.token_hash, links.token_hash_of_claims(claims)
    ):
        return LinkState.invalid
    if send.expires_at is None or int(send.expires_at.timestamp()) != int(
        claims.expires_at.timestamp()
    ):
        return LinkState.invalid
    if send.status is SurveySendStatus.responded:
        return LinkState.used
    if send.status is SurveySendStatus.expired or send.expires_at <= now:
        return LinkState.expired
    if send.status is not SurveySendStatus.sent:
        return LinkState.invalid
    return LinkState.open


def _view(template: SurveyTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "intro": template.intro or "",
        "kind": template.kind.value,
        "questions": [dict(q) for q in template.questions],
    }


async def open_link(
    db: Database, keys: TenantKeys, token: str, *, now: datetime | None = None
) -> Opened:
    now = now or datetime.now(UTC)
    claims = links.parse(token)
    if claims is None:
        return INVALID
    tenant = await active_ref(db, claims.tenant_id)
    if tenant is None:
        return INVALID
    cipher = await keys.cipher(db, tenant.id)
    if not links.verify(cipher, claims):
        return INVALID
    async with db.tenant(tenant).read() as session:
        send = await session.get(SurveySend, claims.send_id)
        if send is None:
            return INVALID
        state = _state(send, claims, now)
        template = await session.get(SurveyTemplate, send.template_id)
        if template is None:
            return INVALID
        return Opened(
            state=state,
            tenant=tenant,
            cipher=cipher,
            send_id=send.id,
            locale=send.locale,
            survey=_view(template),
        )


def ip_digest(cipher: TenantCipher, ip: str | None) -> str | None:
    """A keyed hash of the client's network: repeat submitters can be spotted, the address is
    not kept (and the digest means nothing in another tenant)."""
    if not ip:
        return None
    return cipher.mac(client_network(ip).encode(), purpose="survey-ip").hex()[:64]


async def submit(
    db: Database,
    opened: Opened,
    token: str,
    data: Mapping[str, Any],
    comment: Any,
    *,
    ip: str | None,
    now: datetime | None = None,
) -> tuple[LinkState, SurveyResponse | None]:
    """Store the response (validated; raises ``DomainError`` with ``answers.<key>`` fields).
    The send is locked, so two racing posts give one response; the second sees ``used``."""
    if opened.state is not LinkState.open or opened.tenant is None or opened.cipher is None:
        return opened.state, None
    now = now or datetime.now(UTC)
    claims = links.parse(token)
    assert claims is not None
    async with db.tenant(opened.tenant).transaction() as session:
        send = (
            await session.execute(
                select(SurveySend).where(SurveySend.id == opened.send_id).with_for_update()
            )
        ).scalar_one_or_none()
        if send is None:
            return LinkState.invalid, None
        state = _state(send, claims, now)
        if state is not LinkState.open:
            return state, None
        template = await session.get(SurveyTemplate, send.template_id)
        if template is None:
            return LinkState.invalid, None
        valid = answers_mod.validate(template.questions, data, comment)
        response = await _insert(session, send, valid, ip_digest(opened.cipher, ip), now)
        if response is None:
            return LinkState.used, None
        send.status = SurveySendStatus.responded
        send.responded_at = now
        return LinkState.open, response


async def _insert(
    session: AsyncSession,
    send: SurveySend,
    valid: answers_mod.ValidAnswers,
    ip_hash: str | None,
    now: datetime,
) -> SurveyResponse | None:
    response_id = uuid.uuid4()
    stmt = (
        insert(SurveyResponse)
        .values(
            id=response_id,
            send_id=send.id,
            template_id=send.template_id,
            customer_id=send.customer_id,
            answers=valid.answers,
            csat=valid.csat,
            nps=valid.nps,
            comment=valid.comment,
            submitted_at=now,
            ip_hash=ip_hash,
        )
        .on_conflict_do_nothing(index_elements=["send_id"])
        .returning(SurveyResponse.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return None
    return await session.get(SurveyResponse, response_id)
