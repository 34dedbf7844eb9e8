"""Users, memberships, sign-in and sessions; password change and reset are in
``identity.password_reset``.

Sign-in answers the same for an unknown e-mail, a wrong password, an inactive account and a company
the user is not in, and spends the same argon2 time on each (a dummy hash stands in for a missing
one). Guesses are throttled per e-mail and per IP (``identity.throttle``), keyed by what was typed,
so a throttled address with an account and one without answer alike too.

A session is a short-lived access token plus a refresh token (``identity.refresh``): logout, a new
password and a password reset revoke refresh tokens; access tokens end on their own within minutes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, NotFound, Unauthenticated
from crm_core.identity import passwords, refresh
from crm_core.identity.models import Team
from crm_core.identity.throttle import Throttle
from crm_core.identity.tokens import TokenService
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import Membership, Role, Tenant, TenantStatus, User

DENIED = "wrong e-mail, password or company"
THROTTLED = "too many attempts; wait a little and try again"
SIGN_IN_AGAIN = "the session has ended; sign in again"


def _now() -> datetime:
    return datetime.now(UTC)


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
    refresh_token: str
    refresh_expires_at: int


def _throttled() -> DomainError:
    return DomainError.one(None, ErrorCode.LIMIT_EXCEEDED, THROTTLED)


def _login_key(email: str) -> tuple[str, bool]:
    """(the throttle key of what was typed, whether it is a valid address at all)."""
    try:
        return normalize_login_email(email), True
    except DomainError:
        return email.strip().lower()[:254], False


async def login(
    db: Database,
    tokens: TokenService,
    throttle: Throttle,
    *,
    email: str,
    password: str,
    tenant_slug: str | None,
    ip: str | None = None,
    client_info: str | None = None,
) -> SignIn:
    denied = Unauthenticated(DENIED)
    address, well_formed = _login_key(email)
    buckets = throttle.login_buckets(address, ip)
    if await throttle.wait_seconds(buckets) > 0:
        raise _throttled()  # before any lookup: the same for addresses with and without account
    if not well_formed or len(password) > passwords.MAX_LENGTH:
        # No account can match: refuse before hashing (the length check guards the CPU).
        await throttle.failed(buckets)
        raise denied
    async with db.core_session() as session:
        user = await tenants_repo.get_user_by_email(session, address)
    stored = user.password_hash if user is not None else None
    ok = await passwords.verify_password(stored, password)
    if not ok or user is None or not user.is_active:
        await throttle.failed(buckets)
        raise denied
    await throttle.clear(buckets[0])
    membership, tenant = await _pick_membership(db, user.id, tenant_slug)
    if membership is None or tenant is None:
        raise denied
    assert stored is not None
    upgraded = await passwords.rehash(password) if passwords.needs_rehash(stored) else None
    async with db.core_transaction() as session:
        row = await session.get(User, user.id, with_for_update=True)
        assert row is not None
        row.last_login_at, row.failed_logins, row.locked_until = _now(), 0, None
        if upgraded is not None and row.password_hash == stored:
            row.password_hash = upgraded  # parameters rose since this hash was made
    return await start_session(
        db, tokens, user_id=user.id, tenant=tenant, role=membership.role, client_info=client_info
    )


async def start_session(
    db: Database,
    tokens: TokenService,
    *,
    user_id: uuid.UUID,
    tenant: Tenant | TenantRef,
    role: Role,
    client_info: str | None = None,
) -> SignIn:
    """The one place a signed-in session is made (password sign-in, SSO, tenant switch, new
    password): an access token and the first refresh token of a new family."""
    access = await tokens.issue(user_id=user_id, tenant_id=tenant.id, role=role.value)
    async with db.core_transaction() as session:
        raw, row = await refresh.add(
            session,
            tokens.settings,
            user_id=user_id,
            tenant_id=tenant.id,
            now=_now(),
            client_info=client_info,
        )
    return SignIn(
        access.token,
        access.expires_at,
        user_id,
        tenant.id,
        tenant.slug,
        role,
        raw,
        int(row.expires_at.timestamp()),
    )


async def refresh_session(
    db: Database, tokens: TokenService, *, refresh_token: str, client_info: str | None = None
) -> SignIn:
    """Rotate the refresh token: a new access token and a successor in the same family.

    One transaction holds the presented row's lock, so of two concurrent uses one waits and then
    finds the token used (which revokes the family). Refusals that change state (a reuse, a member
    who left) are committed before they are raised."""
    denied = Unauthenticated(SIGN_IN_AGAIN)
    hashed = refresh.digest(refresh_token)
    if hashed is None:
        raise denied
    signed: SignIn | None = None
    async with db.core_transaction() as session:
        rotated = await refresh.rotate(
            session, tokens.settings, hashed, now=_now(), client_info=client_info
        )
        if rotated is not None:
            m, t = rotated.membership, rotated.tenant
            # Signed before commit: if signing fails, the presented token stays usable.
            access = await tokens.issue(user_id=m.user_id, tenant_id=t.id, role=m.role.value)
            signed = SignIn(
                access.token,
                access.expires_at,
                m.user_id,
                t.id,
                t.slug,
                m.role,
                rotated.raw,
                int(rotated.successor.expires_at.timestamp()),
            )
    if signed is None:
        raise denied
    return signed


async def logout(db: Database, *, refresh_token: str, everywhere: bool = False) -> None:
    """End this sign-in (its refresh family), or with ``everywhere`` every sign-in of the user.

    Ending one sign-in is idempotent and answers alike for unknown tokens; ``everywhere`` needs a
    live token, since it acts on the whole account."""
    hashed = refresh.digest(refresh_token)
    denied = Unauthenticated(SIGN_IN_AGAIN)
    if hashed is None:
        if everywhere:
            raise denied
        return
    now = _now()
    async with db.core_transaction() as session:
        row = await refresh.get_by_hash(session, hashed)
        if row is None:
            if everywhere:
                raise denied
            return
        live = refresh.state_of(row, now) is refresh.State.valid
        if everywhere and live:
            await refresh.revoke_user(session, row.user_id, now)
        else:
            await refresh.revoke_family(session, row.family_id, now)
    if everywhere and not live:
        raise denied


async def _pick_membership(
    db: Database, user_id: uuid.UUID, tenant_slug: str | None
) -> tuple[Membership | None, Tenant | None]:
    live = await my_tenants(db, user_id)
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


async def my_tenants(db: Database, user_id: uuid.UUID) -> Sequence[tuple[Membership, Tenant]]:
    """The companies the user may work in now (active and provisioned), by slug."""
    async with db.core_session() as session:
        pairs = await tenants_repo.memberships_of(session, user_id)
    return [
        (m, t) for m, t in pairs if t.status is TenantStatus.active and t.provisioned_at is not None
    ]


async def switch_tenant(
    db: Database,
    tokens: TokenService,
    *,
    user_id: uuid.UUID,
    tenant_slug: str,
    client_info: str | None = None,
) -> SignIn:
    """A session in another company of the user's; any other slug is "not found"."""
    membership, tenant = await _pick_membership(db, user_id, tenant_slug.strip() or "-")
    if membership is None or tenant is None:
        raise NotFound("tenant", "company")
    return await start_session(
        db, tokens, user_id=user_id, tenant=tenant, role=membership.role, client_info=client_info
    )
