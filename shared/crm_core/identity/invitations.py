"""Member invitations: a holder of ``users:manage`` invites a person by e-mail, with a role (and a
team), to the current company; the person follows the mailed link, sets a name and password (or,
with an account already, simply accepts) and becomes a member.

* Only ``sha256(token)`` is stored; a resend mints a new token (the old link dies) and counts
  ``sends``, so each send is its own mail event (``user.invitation:<id>:<sends>``).
* Single use (``accepted_at``), an expiry (``AuthSettings.invitation_ttl_seconds``), revocable.
* The invitation row, its mail (transactional: no unsubscribe, sent even to an opted-out
  address) and the platform audit event are written in one transaction.
* Roles follow ``members.update_member``: only an owner can make an owner.
* Accepting with an existing account never signs anyone in on the strength of the link alone:
  the GraphQL mutation asks for the account's own password before it returns a session; the
  public page adds the membership and sends the person to the sign-in page.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, FieldError, Forbidden, NotFound
from crm_core.identity import passwords
from crm_core.identity.members import _team
from crm_core.identity.models import Invitation, PlatformAuditEvent
from crm_core.identity.principal import Principal
from crm_core.identity.service import normalize_login_email
from crm_core.identity.throttle import Throttle
from crm_core.mail.outbox import queue_mail
from crm_core.settings import AuthSettings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import Membership, Role, Tenant, TenantStatus, User

log = logging.getLogger(__name__)

PERMISSION = "users:manage"
TOKEN_PREFIX = "crm_inv_"  # noqa: S105 - a marker, not a secret
_TOKEN_RE = re.compile(r"^crm_inv_[A-Za-z0-9_-]{43}$")
MAX_LISTED = 500
MAX_SENDS = 10  # per invitation: a resend button must not become a way to bomb a mailbox
TEMPLATE = "user_invitation"


class InvitationStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    revoked = "revoked"
    expired = "expired"


class LinkState(enum.StrEnum):
    """What a link is worth on the public page and to ``acceptInvitation``."""

    open = "open"
    invalid = "invalid"  # malformed, unknown (or replaced by a resend), tenant not active
    used = "used"
    revoked = "revoked"
    expired = "expired"


MESSAGES = {
    LinkState.invalid: "this invitation link is not valid",
    LinkState.used: "this invitation was already accepted",
    LinkState.revoked: "this invitation was withdrawn",
    LinkState.expired: "this invitation has expired; ask for a new one",
}


class InvitationUnusable(DomainError):
    """The link cannot be used (``state`` says why); an error on ``token``."""

    def __init__(self, state: LinkState) -> None:
        super().__init__([FieldError("token", ErrorCode.INVALID, MESSAGES[state])])
        self.state = state


def _now() -> datetime:
    return datetime.now(UTC)


def status_of(row: Invitation, now: datetime | None = None) -> InvitationStatus:
    if row.accepted_at is not None:
        return InvitationStatus.accepted
    if row.revoked_at is not None:
        return InvitationStatus.revoked
    if row.expires_at <= (now or _now()):
        return InvitationStatus.expired
    return InvitationStatus.pending


def new_token() -> tuple[str, bytes]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, hashlib.sha256(raw.encode()).digest()


def token_digest(raw: str) -> bytes | None:
    """The stored hash of a well-formed token; None for anything that is not one of ours."""
    if not isinstance(raw, str) or not _TOKEN_RE.match(raw):
        return None
    return hashlib.sha256(raw.encode()).digest()


def link(settings: AuthSettings, raw: str) -> str:
    return f"{settings.invitation_url.rstrip('/')}/{raw}"


def _require(principal: Principal) -> None:
    # Declared on the GraphQL fields too; checked here for every other caller (CLI, console).
    if not principal.allows(PERMISSION):
        raise Forbidden(f"your role lacks {PERMISSION}")


def _audit(
    session: AsyncSession,
    action: str,
    row: Invitation,
    actor: uuid.UUID | None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    # Never the token nor its hash.
    session.add(
        PlatformAuditEvent(
            at=_now(),
            actor_user_id=actor,
            tenant_id=row.tenant_id,
            action=action,
            target=str(row.id),
            ip=ip,
            detail={"email": row.email, "role": row.role.value, **(detail or {})},
        )
    )


async def _get_for_write(
    session: AsyncSession, principal: Principal, invitation_id: uuid.UUID
) -> Invitation:
    # Scoped to the caller's tenant: another tenant's invitation is "not found", like a missing one.
    stmt = (
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.tenant_id == principal.tenant.id)
        .with_for_update()
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound("id", "invitation")
    return row


async def _queue(
    session: AsyncSession,
    tenant: TenantRef,
    settings: AuthSettings,
    row: Invitation,
    raw: str,
    inviter: uuid.UUID | None,
) -> None:
    info = (
        await session.execute(select(Tenant.name, Tenant.locale).where(Tenant.id == tenant.id))
    ).one()
    inviter_name = (
        (await session.execute(select(User.name).where(User.id == inviter))).scalar_one_or_none()
        if inviter is not None
        else None
    )
    await queue_mail(
        session,
        tenant,
        event_key=f"user.invitation:{row.id}:{row.sends}",
        to=row.email,
        template=TEMPLATE,
        context={
            "link": link(settings, raw),
            "company": info.name,
            "inviter": inviter_name or "",
            "name": row.name or "",
            "role": row.role.value,
            "days": max(1, round((row.expires_at - _now()).total_seconds() / 86_400)),
        },
        locale=info.locale,
        transactional=True,
    )


async def invite(
    session: AsyncSession,
    principal: Principal,
    settings: AuthSettings,
    *,
    email: str,
    role: Role,
    name: str | None = None,
    team_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Invitation:
    """Invite ``email`` to the principal's company; the mail is queued in this transaction."""
    _require(principal)
    tenant_id = principal.tenant.id
    address = normalize_login_email(email)
    clean_name = " ".join((name or "").split()) or None
    if clean_name is not None and len(clean_name) > 120:
        raise DomainError.one("name", ErrorCode.TOO_LONG, "at most 120 characters")
    if role is Role.owner and principal.role is not Role.owner:
        raise DomainError.one("role", ErrorCode.FORBIDDEN, "only an owner can make another owner")
    if team_id is not None:
        team_id = (await _team(session, tenant_id, team_id, "team_id")).id
    member = (
        await session.execute(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == tenant_id, User.email == address)
        )
    ).scalar_one_or_none()
    if member is not None:
        raise DomainError.one("email", ErrorCode.DUPLICATE, "already a member of this company")
    # Two admins inviting the same address at once: the second waits here for the first to
    # commit, then sees its invitation (a transaction lock, released at commit or rollback).
    await session.execute(
        select(
            func.pg_advisory_xact_lock(func.hashtextextended(f"invite:{tenant_id}:{address}", 0))
        )
    )
    now = _now()
    live = (
        await session.execute(
            select(Invitation.id).where(
                Invitation.tenant_id == tenant_id,
                Invitation.email == address,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        )
    ).first()
    if live is not None:
        raise DomainError.one(
            "email", ErrorCode.DUPLICATE, "already invited; resend or revoke that invitation"
        )
    raw, hashed = new_token()
    row = Invitation(
        tenant_id=tenant_id,
        email=address,
        name=clean_name,
        role=role,
        team_id=team_id,
        token_hash=hashed,
        expires_at=now + timedelta(seconds=settings.invitation_ttl_seconds),
        sends=1,
        invited_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    await _queue(session, principal.tenant, settings, row, raw, principal.user_id)
    _audit(session, "invitation.create", row, principal.user_id, ip)
    return row


async def resend(
    session: AsyncSession,
    principal: Principal,
    settings: AuthSettings,
    invitation_id: uuid.UUID,
    *,
    ip: str | None = None,
) -> Invitation:
    """A new link (the old one stops working), a new expiry and a new mail; pending or expired
    invitations only."""
    _require(principal)
    row = await _get_for_write(session, principal, invitation_id)
    state = status_of(row)
    if state in (InvitationStatus.accepted, InvitationStatus.revoked):
        raise DomainError.one("id", ErrorCode.INVALID, f"the invitation was {state.value}")
    if row.role is Role.owner and principal.role is not Role.owner:
        raise DomainError.one("role", ErrorCode.FORBIDDEN, "only an owner can make another owner")
    if row.sends >= MAX_SENDS:
        raise DomainError.one(
            "id", ErrorCode.LIMIT_EXCEEDED, f"sent {MAX_SENDS} times; revoke it and invite again"
        )
    raw, hashed = new_token()
    row.token_hash = hashed
    row.sends += 1
    row.expires_at = _now() + timedelta(seconds=settings.invitation_ttl_seconds)
    await session.flush()
    await _queue(session, principal.tenant, settings, row, raw, principal.user_id)
    _audit(session, "invitation.resend", row, principal.user_id, ip, {"sends": row.sends})
    return row


async def revoke(
    session: AsyncSession, principal: Principal, invitation_id: uuid.UUID, *, ip: str | None = None
) -> Invitation:
    _require(principal)
    row = await _get_for_write(session, principal, invitation_id)
    if row.accepted_at is not None:
        raise DomainError.one("id", ErrorCode.INVALID, "the invitation was already accepted")
    if row.revoked_at is None:
        row.revoked_at = _now()
        await session.flush()
        _audit(session, "invitation.revoke", row, principal.user_id, ip)
    return row


async def list_invitations(
    session: AsyncSession,
    principal: Principal,
    *,
    status: InvitationStatus | None = None,
    limit: int = 100,
) -> Sequence[Invitation]:
    _require(principal)
    now = _now()
    stmt = select(Invitation).where(Invitation.tenant_id == principal.tenant.id)
    pending_like = and_(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    if status is InvitationStatus.accepted:
        stmt = stmt.where(Invitation.accepted_at.is_not(None))
    elif status is InvitationStatus.revoked:
        stmt = stmt.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None))
    elif status is InvitationStatus.expired:
        stmt = stmt.where(pending_like, Invitation.expires_at <= now)
    elif status is InvitationStatus.pending:
        stmt = stmt.where(pending_like, Invitation.expires_at > now)
    stmt = stmt.order_by(Invitation.created_at.desc(), Invitation.id).limit(
        max(1, min(limit, MAX_LISTED))
    )
    return (await session.execute(stmt)).scalars().all()


# --- the invited person (no sign-in: the token is the credential) --------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    state: LinkState
    invitation_id: uuid.UUID | None = None
    tenant: TenantRef | None = None
    company: str = ""
    locale: str = "zh"
    email: str = ""
    name: str = ""
    role: Role | None = None
    has_account: bool = False


INVALID = Opened(state=LinkState.invalid)


def _link_state(row: Invitation, now: datetime) -> LinkState:
    status = status_of(row, now)
    return {
        InvitationStatus.pending: LinkState.open,
        InvitationStatus.accepted: LinkState.used,
        InvitationStatus.revoked: LinkState.revoked,
        InvitationStatus.expired: LinkState.expired,
    }[status]


async def _find(session: AsyncSession, hashed: bytes, *, lock: bool = False) -> Invitation | None:
    stmt = select(Invitation).where(Invitation.token_hash == hashed)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_link(db: Database, token: str, *, now: datetime | None = None) -> Opened:
    hashed = token_digest(token)
    if hashed is None:
        return INVALID
    async with db.core_session() as session:
        row = await _find(session, hashed)
        if row is None:
            return INVALID
        tenant = await session.get(Tenant, row.tenant_id)
        if (
            tenant is None
            or tenant.status is not TenantStatus.active
            or tenant.provisioned_at is None
        ):
            return INVALID
        user = await tenants_repo.get_user_by_email(session, row.email)
        return Opened(
            state=_link_state(row, now or _now()),
            invitation_id=row.id,
            tenant=TenantRef(id=tenant.id, slug=tenant.slug),
            company=tenant.name,
            locale="en" if not tenant.locale.lower().startswith("zh") else "zh",
            email=row.email,
            name=row.name or "",
            role=row.role,
            has_account=user is not None,
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    user_id: uuid.UUID
    tenant: TenantRef
    role: Role
    new_user: bool


async def accept(
    db: Database,
    *,
    token: str,
    name: str | None,
    password: str | None,
    verify_existing: bool,
    throttle: Throttle | None = None,
    ip: str | None = None,
) -> Accepted:
    """Accept an invitation: a new account (name and password, by the password policy) or, for an
    address that has one, the existing account. With ``verify_existing`` (the GraphQL mutation,
    which signs the person in) an existing account must give its own password."""
    opened = await open_link(db, token)
    if opened.state is not LinkState.open:
        raise InvitationUnusable(opened.state)
    hashed_password: str | None = None
    if opened.has_account:
        if verify_existing:
            await _check_existing_password(db, throttle, opened.email, password or "", ip)
    else:
        clean = " ".join((name or "").split())
        if not clean:
            raise DomainError.one("name", ErrorCode.REQUIRED, "tell us your name")
        if len(clean) > 120:
            raise DomainError.one("name", ErrorCode.TOO_LONG, "at most 120 characters")
        name = clean
        # Checked and hashed before the transaction: argon2 must not run under a row lock.
        hashed_password = await passwords.hash_password(password or "", "password")
    digest = token_digest(token)
    assert digest is not None
    now = _now()
    async with db.core_transaction() as session:
        row = await _find(session, digest, lock=True)
        if row is None:
            raise InvitationUnusable(LinkState.invalid)
        state = _link_state(row, now)
        if state is not LinkState.open:
            raise InvitationUnusable(state)
        user = await tenants_repo.get_user_by_email(session, row.email)
        new_user = user is None
        if user is None:
            if hashed_password is None:  # the account vanished between the two reads
                raise InvitationUnusable(LinkState.invalid)
            user = User(email=row.email, name=name or row.email, password_hash=hashed_password)
            session.add(user)
            await session.flush()
        elif not user.is_active:
            raise DomainError.one("token", ErrorCode.FORBIDDEN, "this account is disabled")
        existing = (
            await session.execute(
                select(Membership.id).where(
                    Membership.user_id == user.id, Membership.tenant_id == row.tenant_id
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            raise DomainError.one("token", ErrorCode.DUPLICATE, "already a member of this company")
        session.add(
            Membership(user_id=user.id, tenant_id=row.tenant_id, role=row.role, team_id=row.team_id)
        )
        row.accepted_at, row.accepted_user_id = now, user.id
        _audit(session, "invitation.accept", row, user.id, ip, {"new_user": new_user})
        result = Accepted(
            user_id=user.id,
            tenant=opened.tenant or TenantRef(id=row.tenant_id, slug=""),
            role=row.role,
            new_user=new_user,
        )
    log.info("invitation %s accepted by user %s", row.id, result.user_id)
    return result


async def _check_existing_password(
    db: Database, throttle: Throttle | None, email: str, password: str, ip: str | None
) -> None:
    """The account's own password, throttled like sign-in (the link alone signs nobody in)."""
    wrong = DomainError.one("password", ErrorCode.INVALID, "the password of your existing account")
    buckets = throttle.login_buckets(email, ip) if throttle is not None else None
    if throttle is not None and buckets is not None and await throttle.wait_seconds(buckets) > 0:
        raise DomainError.one(None, ErrorCode.LIMIT_EXCEEDED, "too many attempts; wait a little")
    async with db.core_session() as session:
        user = await tenants_repo.get_user_by_email(session, email)
    stored = user.password_hash if user is not None else None
    if len(password) > passwords.MAX_LENGTH or not await passwords.verify_password(
        stored, password
    ):
        if throttle is not None and buckets is not None:
            await throttle.failed(buckets)
        raise wrong
    if throttle is not None and buckets is not None:
        await throttle.clear(buckets[0])
