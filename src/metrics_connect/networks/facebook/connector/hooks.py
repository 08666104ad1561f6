"""Facebook Pages on the Meta Graph kit: what streams.yaml cannot say.

The Page access token (asked once with the user's token, then kept with the
credentials), which metrics each variant asks, insights values that are objects (by
is_from_ads, by city or country) read as breakdown rows, and the lifetime insights of
listed posts and reels in Graph batches.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.meta_graph.client import GraphClient
from metrics_connect.connectors.kit.meta_graph.connector import GraphConnector, insight_reads
from metrics_connect.connectors.kit.meta_graph.insights import is_number, series, summed_uniques
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
PAGE_TOKEN = "page_access_token"  # kept beside the user's access_token
DAILY = STREAMS.datasets["page_daily"]
SPLIT = ("_organic", "_paid")  # is_from_ads 0 and 1
SPLIT_FIELDS = {
    f"{metric}{part}"
    for metric in STREAMS.requester("page_daily", "by_ads").params["metric"].split(",")
    for part in SPLIT
}
# Fields computed here, not asked: net follows of a day.
COMPUTED = {"net_follows"}
POST_OPS, REEL_OPS = (insight_reads(STREAMS.datasets[name]) for name in ("posts", "reels"))
POST_NAMES: dict[str, str] = STREAMS.datasets["posts"].extra["names"]
REEL_NAMES: dict[str, str] = STREAMS.datasets["reels"].extra["names"]
REACTIONS = ("like", "love", "haha", "wow", "sorry", "anger")


class PageClient(GraphClient):
    """Page edges take a Page access token: the one kept with the credentials, once
    `page_token` got it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Datasets fetched at once ask the Page token once.
        self._asking = asyncio.Lock()

    @property
    def token(self) -> str:
        page = self.ctx.credentials.get(PAGE_TOKEN)
        return str(page) if page else super().token

    async def page_token(self) -> None:
        """Ask the Page's token with the user's (GET /{page-id}?fields=access_token) and
        keep it in the credentials, which the engine saves encrypted when they change."""
        async with self._asking:
            if self.ctx.credentials.get(PAGE_TOKEN):
                return
            body = await self.get(self.ctx.external_id, {"fields": "access_token"})
            if not isinstance(body, dict) or not body.get("access_token"):
                raise UpstreamError("the Page gave no Page access token to this login")
            self.ctx.credentials[PAGE_TOKEN] = str(body["access_token"])


def last_value(entry: dict[str, Any]) -> Any:
    """A lifetime insights entry's value (a number or an object)."""
    points = entry.get("values") or [{}]
    return points[-1].get("value") if isinstance(points[-1], dict) else None


def by_ads(values: dict[str, Any], call: Call) -> dict[str, Any]:
    """Values of a call broken down by is_from_ads ({"0": organic, "1": ads}) as
    <metric>_organic and <metric>_paid; other calls' values as they are."""
    if call.params.get("breakdown") != "is_from_ads":
        return values
    out: dict[str, Any] = {}
    for metric, parts in values.items():
        if isinstance(parts, dict):
            out |= {
                f"{metric}{SPLIT[0]}": parts.get("0", 0),
                f"{metric}{SPLIT[1]}": parts.get("1", 0),
            }
    return out


class PageConnector(GraphConnector):
    slug: ClassVar[str] = "facebook"
    streams = STREAMS
    client_class = PageClient
    client: PageClient

    async def account_info(self) -> AccountInfo:
        await self.client.page_token()
        return await super().account_info()

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        asked = [f for f in DAILY.fields if f not in COMPUTED | SPLIT_FIELDS]
        return super().variables(request, stream) | {"metrics": ",".join(asked)}

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "follows_by_location" and len(request.breakdowns) != 1:
            raise UpstreamError("followers by location take one breakdown: city or country")
        await self.client.page_token()
        return await super().fetch(request)

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        if request.dataset == "page_snapshot":
            return super().result(request, answers)
        if request.dataset == "page_period":
            return self._period(answers)
        if request.dataset == "follows_by_location":
            (key,) = request.breakdowns
            return FetchResult(
                rows=[
                    Row(day, {key: str(k)}, {"followers": n})
                    for day, values in sorted(self._points(answers).items())
                    for k, n in (values.get(f"page_follows_{key}") or {}).items()
                    if is_number(n)
                ]
            )
        rows = []
        for day, values in sorted(self._points(answers).items()):
            numbers: dict[str, Scalar] = {k: v for k, v in values.items() if is_number(v)}
            follows = numbers.get("page_daily_follows_unique")
            unfollows = numbers.get("page_daily_unfollows_unique")
            if is_number(follows) and is_number(unfollows):
                numbers["net_follows"] = follows - unfollows  # type: ignore[operator]
            rows += [Row(day, {}, numbers)] if numbers else []
        return FetchResult(rows=rows)

    def _points(self, answers: list[Answer]) -> dict[date, dict[str, Any]]:
        """{day: {metric: value}} of time-series answers; an answer broken down by
        is_from_ads gives <metric>_organic ("0") and <metric>_paid ("1")."""
        out: dict[date, dict[str, Any]] = {}
        for answer in answers:
            assert answer.call.window is not None
            for day, values in series(answer.records, *answer.call.window, self.tz).items():
                out.setdefault(day, {}).update(by_ads(values, answer.call))
        return out

    @staticmethod
    def _period(answers: list[Answer]) -> FetchResult:
        """The period's unique viewers (total_over_range), summed over the calls of a
        period longer than 90 days and then marked approximate."""
        totals: dict[str, float] = {}
        for answer in answers:
            for entry in answer.records:
                point = {str(entry.get("name")): last_value(entry)}
                for name, value in by_ads(point, answer.call).items():
                    if is_number(value):
                        totals[name] = totals.get(name, 0) + value
        notes = summed_uniques(answers)
        return FetchResult(rows=[Row(None, {}, dict(totals))] if totals else [], notes=notes)

    # --- posts and reels ---

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        listed = await self.listed_in(request, "created_time")
        reel = request.dataset == "reels"
        ops = [
            Call(f"{item['id']}/{op.path}", dict(op.params))
            for item in listed
            for op in (REEL_OPS if reel else POST_OPS)
        ]
        answers = await self.client.batch(ops) if ops else []
        per_item = len(REEL_OPS if reel else POST_OPS)
        objects = []
        for index, item in enumerate(listed):
            raw: dict[str, Any] = {}
            chunk = answers[index * per_item : (index + 1) * per_item]
            for op, answer in zip(REEL_OPS if reel else POST_OPS, chunk, strict=True):
                if isinstance(answer, UpstreamError):
                    if type(answer) is not UpstreamError:
                        raise answer
                    continue  # the object went away between the listing and its insights
                suffix = "@ads" if "breakdown" in op.params else ""
                raw |= {f"{e.get('name')}{suffix}": last_value(e) for e in answer.get("data") or []}
            flat = self._flat(item)
            values = self._reel_values(raw) if reel else self._post_values(flat, raw)
            objects.append(self.object_row(request, flat, values))
        return FetchResult(objects=objects)

    @staticmethod
    def _flat(item: dict[str, Any]) -> dict[str, Any]:
        """Counts the listing nests: shares.count, comments/reactions summary.total_count."""
        out = dict(item)
        out["shares"] = (item.get("shares") or {}).get("count", 0)
        for edge in ("comments", "reactions"):
            out[edge] = ((item.get(edge) or {}).get("summary") or {}).get("total_count", 0)
        return out

    @staticmethod
    def _post_values(listed: dict[str, Any], raw: dict[str, Any]) -> dict[str, Scalar]:
        """A post's figures: lifetime insights, their split by is_from_ads ("@ads"),
        reactions by type, and engagements = reactions + comments + shares + clicks."""
        values: dict[str, Scalar] = {
            field: raw[metric] for metric, field in POST_NAMES.items() if is_number(raw.get(metric))
        }
        for metric, field in (
            ("post_total_media_view_unique", "reach"),
            ("post_media_view", "views"),
        ):
            parts = raw.get(f"{metric}@ads")
            if isinstance(parts, dict):
                values |= {
                    f"{field}_organic": parts.get("0", 0),
                    f"{field}_paid": parts.get("1", 0),
                }
        by_type = raw.get("post_reactions_by_type_total")
        by_type = by_type if isinstance(by_type, dict) else {}
        values |= {r: by_type.get(r, 0) for r in REACTIONS}
        values["reactions"] = sum(v for v in by_type.values() if is_number(v))
        parts = (values["reactions"], listed["comments"], listed["shares"], values.get("clicks"))
        values["engagements"] = sum(int(v) for v in parts if isinstance(v, int | float))
        return values

    @staticmethod
    def _reel_values(raw: dict[str, Any]) -> dict[str, Scalar]:
        values: dict[str, Scalar] = {
            field: raw[metric] for metric, field in REEL_NAMES.items() if is_number(raw.get(metric))
        }
        likes = raw.get("post_video_likes_by_reaction_type")
        if isinstance(likes, dict):
            values["likes"] = sum(v for v in likes.values() if is_number(v))
        social = raw.get("post_video_social_actions")
        if isinstance(social, dict):
            values |= {"comments": social.get("COMMENT", 0), "shares": social.get("SHARE", 0)}
        return values
