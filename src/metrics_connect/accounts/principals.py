"""Who is calling: immutable copies of the authenticated merchant and customer rows.

Request handlers read these; an endpoint that changes a merchant or a customer loads
the row itself. Being immutable, one copy can serve many requests (the auth cache).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from metrics_connect.accounts.models import Customer, Merchant

P = TypeVar("P", bound=Any)


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
        return _copied(cls, row)


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
        return _copied(cls, row)


def _copied(cls: type[P], row: object) -> P:
    """The row's values of the principal's fields."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


# What reading code accepts: a row, or the authenticated copy of one.
MerchantLike = Merchant | MerchantPrincipal
CustomerLike = Customer | CustomerPrincipal
