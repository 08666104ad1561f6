"""Laravel-style pagination: ?page=&per_page= and {"data", "meta"}."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

MAX_PER_PAGE = 100


class PageParams(BaseModel):
    page: int
    per_page: int


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 15,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(page_params)]


async def paginate(
    session: AsyncSession, stmt: Select[Any], params: PageParams
) -> tuple[list[Any], dict[str, Any]]:
    offset = (params.page - 1) * params.per_page
    # The page and the total in one round trip: a window count is taken before LIMIT.
    counted = stmt.add_columns(func.count().over()).offset(offset).limit(params.per_page)
    found = (await session.execute(counted)).all()
    rows = [row[0] for row in found]
    if found:
        total = int(found[0][1])
    else:  # no row on this page: the total needs its own count
        counted_all = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = int(await session.scalar(counted_all) or 0)
    meta = {
        "current_page": params.page,
        "from": offset + 1 if rows else None,
        "last_page": max(1, math.ceil(total / params.per_page)),
        "per_page": params.per_page,
        "to": offset + len(rows) if rows else None,
        "total": total,
    }
    return rows, meta
