"""Control-plane tables of identity and access (schema ``core``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import CoreBase, IdMixin, TimestampMixin, str_enum
from crm_core.tenants.models import Role


class SigningKey(TimestampMixin, CoreBase):
    """Token signing keys, shared by every gateway process. The newest active key signs; retired
    keys stay verify-only until the tokens they signed have expired, then they are dropped."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), nullable=False)
    # The private key, encrypted with the master key from settings (never stored in clear).
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verify_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordResetToken(IdMixin, CoreBase):
    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("core.users.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Team(IdMixin, TimestampMixin, CoreBase):
    """A sales or service team in a tenant; its manager sees the team's records."""

    __tablename__ = "teams"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("core.tenants.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    manager_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("core.users.id", ondelete="SET NULL")
    )

    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class SsoProvider(IdMixin, TimestampMixin, CoreBase):
    """A tenant's OpenID Connect provider."""

    __tablename__ = "sso_providers"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("core.tenants.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    client_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    allowed_domains: Mapped[list[str]] = mapped_column(
        ARRAY(String(253)), nullable=False, default=list
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __table_args__ = (UniqueConstraint("tenant_id", "issuer"),)


class UserIdentity(IdMixin, TimestampMixin, CoreBase):
    """A user's account at an external issuer, matched on (issuer, subject) only."""

    __tablename__ = "user_identities"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("core.users.id", ondelete="CASCADE"), nullable=False
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("core.sso_providers.id", ondelete="CASCADE"), nullable=False
    )
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (UniqueConstraint("issuer", "subject"),)


class PlatformAuditEvent(IdMixin, CoreBase):
    """Who did what to the platform (tenants, users, credentials), from where."""

    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    target: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_events_tenant_id_at", "tenant_id", "at"),)


class Invitation(IdMixin, TimestampMixin, CoreBase):
    """A person invited by e-mail to join a tenant with a role (``crm_core.identity.invitations``).

    Only ``sha256`` of the link's token is kept; a resend replaces it (the old link dies)."""

    __tablename__ = "invitations"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("core.tenants.id", ondelete="CASCADE"), nullable=False
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role, "invitation_role"), nullable=False)
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("core.teams.id", ondelete="SET NULL")
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sends: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("core.users.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("core.users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_invitations_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_invitations_tenant_id_email", "tenant_id", "email"),
    )
