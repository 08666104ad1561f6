"""Tenancy tables: merchants, their customers, customer integrations, connect sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from metrics_connect import clock
from metrics_connect.db.base import Base, UTCDateTime, new_uuid

INTEGRATION_STATUSES = ("active", "expired", "revoked")


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    app_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    redirect_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    rate_limit_per_second: Mapped[int] = mapped_column(Integer)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    # Encrypted with the credentials key: it must be shown again in /merchants/settings.
    webhook_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )

    customers: Mapped[list[Customer]] = relationship(
        back_populates="merchant", cascade="all, delete-orphan", passive_deletes=True
    )


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    is_paying: Mapped[bool] = mapped_column(Boolean, default=False)
    trial_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )

    merchant: Mapped[Merchant] = relationship(back_populates="customers")
    integrations: Mapped[list[CustomerIntegration]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )


class CustomerIntegration(Base):
    """One connected account of a network (an Instagram account, an ad account...)."""

    __tablename__ = "customer_integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(255))
    # The network's id of the connected account (IG user id, act_..., GA4 property).
    external_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The account's time zone, as the network counts its days.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # JSON of tokens and endpoints, Fernet-encrypted.
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )

    customer: Mapped[Customer] = relationship(back_populates="integrations")


class IntegrationSession(Base):
    """A connect-page session: the link a merchant hands its customer, alive 5 minutes."""

    __tablename__ = "integration_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    redirect_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    customer: Mapped[Customer] = relationship()
