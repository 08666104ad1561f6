"""Connect-page tables: OAuth states in flight and grants waiting for an account pick.

Both rows are bound to one connect session, single-use, and die with the session.
Neither holds a token in the clear: the state is stored as its SHA-256, the grant's
tokens and the PKCE verifier are encrypted with the credentials key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from metrics_connect import clock
from metrics_connect.db.base import Base, UTCDateTime, new_uuid


class OAuthState(Base):
    """One authorization request sent to a provider, waiting for its callback."""

    __tablename__ = "connect_oauth_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("integration_sessions.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    slug: Mapped[str] = mapped_column(String(64))
    # Set when reconnecting: the integration whose credentials the grant replaces.
    integration_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The PKCE verifier (OAuth 2.0), or the temporary token and secret as JSON (OAuth 1.0a).
    code_verifier_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class OAuthGrant(Base):
    """Tokens obtained from a provider and the accounts they can see, until one is picked."""

    __tablename__ = "connect_oauth_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("integration_sessions.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    slug: Mapped[str] = mapped_column(String(64))
    integration_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    tokens_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # JSON list of the accounts the token can see (ids, names, time zones; no secrets).
    accounts_json: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
