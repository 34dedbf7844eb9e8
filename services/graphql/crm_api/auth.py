"""Authentication at the edge: the token names user and tenant; membership and tenant status are
checked against the control plane on every request, so a suspension or removal takes effect at once.

An API client's token (``claims.client_id`` set) is checked the same way against its
``core.api_clients`` row: a revoked client's tokens stop on their next request, a suspended
tenant's clients are refused, and the principal is the client ceiling narrowed to the token's
scopes (see ``crm_core.identity.api_clients``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select

from crm_api.context import AppState
from crm_core.errors import DomainError
from crm_core.identity import api_client_auth
from crm_core.identity.principal import Principal
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Membership, Tenant, TenantStatus, User


@dataclass(frozen=True, slots=True)
class AuthFailure:
    status: int
    code: str
    message: str


async def authenticate(app: AppState, authorization: str | None) -> Principal | AuthFailure | None:
    """None when no credentials were sent (public fields such as ``login`` still work)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return AuthFailure(401, "UNAUTHENTICATED", "use an Authorization: Bearer <token> header")
    try:
        claims = await app.tokens.verify(token.strip())
    except DomainError:
        return AuthFailure(401, "UNAUTHENTICATED", "invalid or expired token")
    if claims.client_id is not None:
        client = await api_client_auth.access_for_token(
            app.db, record_id=claims.user_id, client_id=claims.client_id, tenant_id=claims.tenant_id
        )
        if client is None:
            return AuthFailure(401, "UNAUTHENTICATED", "invalid or expired token")
        if not client.tenant_active:
            return AuthFailure(403, "FORBIDDEN", "this company's account is suspended")
        return api_client_auth.principal_for(client, claims.scopes or frozenset())
    async with app.db.core_session() as session:
        row = (
            await session.execute(
                select(Tenant.slug, Tenant.status, Membership.role)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .join(User, User.id == Membership.user_id)
                .where(
                    Tenant.id == claims.tenant_id,
                    Membership.user_id == claims.user_id,
                    Membership.is_active.is_(True),
                    User.is_active.is_(True),
                    Tenant.provisioned_at.is_not(None),
                    # Tokens issued before the user's last "sign out everywhere" are dead.
                    or_(
                        User.tokens_valid_after.is_(None),
                        User.tokens_valid_after <= datetime.fromtimestamp(claims.issued_at, UTC),
                    ),
                )
            )
        ).one_or_none()
    if row is None:
        return AuthFailure(401, "UNAUTHENTICATED", "invalid or expired token")
    if row.status is not TenantStatus.active:
        return AuthFailure(403, "FORBIDDEN", "this company's account is suspended")
    return Principal(
        user_id=claims.user_id, tenant=TenantRef(id=claims.tenant_id, slug=row.slug), role=row.role
    )
