"""Users, memberships and password sign-in.

Sign-in answers the same for an unknown e-mail, a wrong password and a tenant the user is not in,
and spends the same argon2 time on each. Repeated failures slow an account down progressively
(a short, growing delay) instead of locking it, so an attacker cannot lock a user out for long.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, Unauthenticated
from crm_core.identity import passwords
from crm_core.identity.models import Team
from crm_core.identity.tokens import TokenService
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import Membership, Role, Tenant, TenantStatus, User

FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)


def normalize_login_email(email: str, field: str = "email") -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise DomainError.one(field, ErrorCode.INVALID, "not a valid e-mail address") from exc


async def create_user(
    db: Database,
    *,
    email: str,
    name: str,
    password: str,
    tenant_slug: str | None = None,
    role: Role = Role.viewer,
    team: str | None = None,
    platform_operator: bool = False,
) -> User:
    """Create the user, or update its password and name; add the membership when a tenant is named."""
    address = normalize_login_email(email)
    if not name.strip():
        raise DomainError.one("name", ErrorCode.REQUIRED, "a user needs a name")
    hashed = await passwords.hash_password(password)
    async with db.core_transaction() as session:
        user = await tenants_repo.get_user_by_email(session, address)
        if user is None:
            user = User(email=address, name=name.strip(), password_hash=hashed)
            session.add(user)
        else:
            user.name, user.password_hash = name.strip(), hashed
        user.is_platform_operator = user.is_platform_operator or platform_operator
        await session.flush()
        if tenant_slug is not None:
            tenant = await tenants_repo.get_by_slug(session, tenant_slug)
            if tenant is None:
                raise DomainError.one("tenant", ErrorCode.NOT_FOUND, "tenant not found")
            membership = (
                await session.execute(
                    select(Membership).where(
                        Membership.user_id == user.id, Membership.tenant_id == tenant.id
                    )
                )
            ).scalar_one_or_none()
            team_id = await _team_id(session, tenant.id, team) if team else None
            if membership is None:
                session.add(
                    Membership(user_id=user.id, tenant_id=tenant.id, role=role, team_id=team_id)
                )
            else:
                membership.role, membership.team_id = role, team_id
        return user


async def _team_id(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> uuid.UUID:
    """The tenant's team of that name, created on first use."""
    name = name.strip()
    found = (
        await session.execute(select(Team.id).where(Team.tenant_id == tenant_id, Team.name == name))
    ).scalar_one_or_none()
    if found is not None:
        return found
    team = Team(tenant_id=tenant_id, name=name)
    session.add(team)
    await session.flush()
    return team.id


@dataclass(frozen=True, slots=True)
class SignIn:
    token: str
    expires_at: int
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    role: Role


def _delay_for(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


async def login(
    db: Database, tokens: TokenService, *, email: str, password: str, tenant_slug: str | None
) -> SignIn:
    denied = Unauthenticated("wrong e-mail, password or company")
    try:
        address = normalize_login_email(email)
    except DomainError:
        address = ""
    async with db.core_session() as session:
        user = await tenants_repo.get_user_by_email(session, address) if address else None
    now = datetime.now(UTC)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        await passwords.verify_password(None, password)  # same time as any other refusal
        raise DomainError.one(
            None, ErrorCode.LIMIT_EXCEEDED, "too many attempts; try again shortly"
        )
    ok = await passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not user.is_active:
        raise denied
    async with db.core_transaction() as session:
        row = await session.get(User, user.id, with_for_update=True)
        assert row is not None
        if not ok:
            row.failed_logins += 1
            delay = _delay_for(row.failed_logins)
            row.locked_until = now + delay if delay else None
            raise_after = denied
        else:
            row.failed_logins, row.locked_until, row.last_login_at = 0, None, now
            if row.password_hash and passwords.needs_rehash(row.password_hash):
                row.password_hash = await passwords.hash_password(password)
            raise_after = None
    if raise_after is not None:
        raise raise_after
    membership, tenant = await _pick_membership(db, user.id, tenant_slug)
    if membership is None or tenant is None:
        raise denied
    return await start_session(db, tokens, user_id=user.id, tenant=tenant, role=membership.role)


async def start_session(
    db: Database,
    tokens: TokenService,
    *,
    user_id: uuid.UUID,
    tenant: Tenant,
    role: Role,
    client_info: str | None = None,
) -> SignIn:
    """The one place a signed-in session is made (password sign-in, SSO, tenant switch)."""
    token, expires = tokens.issue(user_id=user_id, tenant_id=tenant.id, role=role.value)
    return SignIn(token, expires, user_id, tenant.id, tenant.slug, role)


async def _pick_membership(
    db: Database, user_id: uuid.UUID, tenant_slug: str | None
) -> tuple[Membership | None, Tenant | None]:
    async with db.core_session() as session:
        pairs = await tenants_repo.memberships_of(session, user_id)
    live = [(m, t) for m, t in pairs if t.status is TenantStatus.active]
    if tenant_slug:
        for m, t in live:
            if t.slug == tenant_slug.strip().lower():
                return m, t
        return None, None
    if len(live) == 1:
        return live[0]
    if len(live) > 1:
        raise DomainError.one(
            "tenant", ErrorCode.REQUIRED, "you belong to several companies; name one"
        )
    return None, None
