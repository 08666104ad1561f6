"""Who is calling: immutable copies of the authenticated merchant and customer rows.

Request handlers read these; an endpoint that changes a merchant or a customer loads
the row itself. Being immutable, one copy can serve many requests (the auth cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from metrics_connect.accounts.models import Customer, Merchant


@dataclass(frozen=True, slots=True)
class MerchantPrincipal:
    id: int
    uuid: str
    name: str
    token_hash: str
    app_url: str | None
    redirect_url: str | None
    rate_limit_per_second: int
    rate_limit_per_minute: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Merchant) -> MerchantPrincipal:
        return cls(
            id=row.id,
            uuid=row.uuid,
            name=row.name,
            token_hash=row.token_hash,
            app_url=row.app_url,
            redirect_url=row.redirect_url,
            rate_limit_per_second=row.rate_limit_per_second,
            rate_limit_per_minute=row.rate_limit_per_minute,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    id: int
    uuid: str
    merchant_id: int
    name: str
    token_hash: str
    is_paying: bool
    trial_ends_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Customer) -> CustomerPrincipal:
        return cls(
            id=row.id,
            uuid=row.uuid,
            merchant_id=row.merchant_id,
            name=row.name,
            token_hash=row.token_hash,
            is_paying=row.is_paying,
            trial_ends_at=row.trial_ends_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


# What reading code accepts: a row, or the authenticated copy of one.
MerchantLike = Merchant | MerchantPrincipal
CustomerLike = Customer | CustomerPrincipal
