"""Queries in a small SQL-like language, as reporting APIs that take one read them:

    SELECT f, ... FROM resource [WHERE f op v AND ...] [ORDER BY f [ASC|DESC], ...]
    [LIMIT n] [PARAMETERS ...]

Keywords in any case; values bare, 'quoted' or "quoted", or a (list, of, values).
Operators: = != > >= < <= IN, NOT IN, LIKE, NOT LIKE (% any text, _ one character,
case-insensitive), BETWEEN a AND b, and any other word followed by one value (DURING
LAST_7_DAYS): `matches` tests the comparisons; the others are the caller's to read.
Whatever follows PARAMETERS is not read.

Refusals are the caller's words: `refuse(kind, **values)` builds them, kind one of
`unexpected_text` (text: 20 characters from where tokens stopped), `unexpected_word`
(word), `expected_select`, `expected_from`, `unexpected_end` (a query cut short) and
`bad_limit` (text: a LIMIT that is no integer); `date_span`'s `date_literal` (literal)
and `date_operator` (op). A date that is none raises ValueError."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from metrics_connect.sandbox.kit.periods import Preset
from metrics_connect.sandbox.kit.report_rows import order_rows

Refuse = Callable[..., Exception]
TOKEN = re.compile(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\(|\)|,|!=|>=|<=|=|>|<|[\w.\-]+)""")
COMPARISONS = {
    ">": float.__gt__,
    ">=": float.__ge__,
    "<": float.__lt__,
    "<=": float.__le__,
}


@dataclass
class SelectQuery:
    select: list[str]
    resource: str
    where: list[tuple[str, str, Any]] = field(default_factory=list)  # (field, OP, value)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None


def tokens(text: str, refuse: Refuse) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None or not match.group(1):
            raise refuse("unexpected_text", text=text[pos : pos + 20])
        out.append(match.group(1))
        pos = match.end()
    return out


def parse_select(text: str, refuse: Refuse) -> SelectQuery:
    try:
        return _parse(tokens(text, refuse), refuse)
    except IndexError:  # a clause or condition missing its next word
        raise refuse("unexpected_end") from None


def _parse(words: list[str], refuse: Refuse) -> SelectQuery:
    upper = [w.upper() for w in words]
    if not words or upper[0] != "SELECT" or "FROM" not in upper:
        raise refuse("expected_select" if not words or upper[0] != "SELECT" else "expected_from")
    at = upper.index("FROM")
    select = [w for w in words[1:at] if w != ","]
    query = SelectQuery(select=select, resource=words[at + 1])
    i = at + 2

    def value() -> Any:
        nonlocal i
        word = words[i]
        i += 1
        if word == "(":
            items = []
            while words[i] != ")":
                if words[i] != ",":
                    items.append(words[i].strip("'\""))
                i += 1
            i += 1
            return items
        return word.strip("'\"") if word[0] in "'\"" else word

    while i < len(words):
        keyword = upper[i]
        if keyword in ("WHERE", "AND"):
            name, op = words[i + 1], upper[i + 2]
            i += 3
            if op == "NOT":
                op, i = "NOT " + upper[i], i + 1
            if op == "BETWEEN":
                low = value()
                i += 1  # AND
                query.where.append((name, op, (low, value())))
            else:
                query.where.append((name, op, value()))
        elif keyword == "ORDER":
            i += 2
            while i < len(words) and upper[i] not in ("LIMIT", "PARAMETERS"):
                if words[i] != ",":
                    desc = i + 1 < len(words) and upper[i + 1] == "DESC"
                    query.order.append((words[i], desc))
                    i += 2 if i + 1 < len(words) and upper[i + 1] in ("ASC", "DESC") else 1
                else:
                    i += 1
        elif keyword == "LIMIT":
            if not words[i + 1].isdigit():
                raise refuse("bad_limit", text=words[i + 1])
            query.limit, i = int(words[i + 1]), i + 2
        elif keyword == "PARAMETERS":
            break
        else:
            raise refuse("unexpected_word", word=words[i])
    return query


def date_span(
    query: SelectQuery,
    name: str,
    first: date,
    today: date,
    presets: Mapping[str, Preset],
    refuse: Refuse,
) -> tuple[date, date, bool]:
    """The days from `first` to `today` narrowed by the query's conditions on the date
    field `name` (DURING a preset, named in any case; BETWEEN; = > >= < <=), and whether
    any condition named it."""
    last, bounded = today, False
    for field_name, op, val in query.where:
        if field_name != name:
            continue
        bounded = True
        if op == "DURING":
            if str(val).upper() not in presets:
                raise refuse("date_literal", literal=str(val))
            low, high = presets[str(val).upper()].range(today)
        elif op == "BETWEEN":
            low, high = date.fromisoformat(val[0]), date.fromisoformat(val[1])
        elif op in ("=", ">=", ">", "<=", "<"):
            day = date.fromisoformat(str(val))
            low = day + timedelta(days=1) if op == ">" else (day if op in ("=", ">=") else first)
            high = day - timedelta(days=1) if op == "<" else (day if op in ("=", "<=") else last)
        else:
            raise refuse("date_operator", op=op)
        first, last = max(first, low), min(last, high)
    return first, last, bounded


def matches(actual: Any, op: str, expected: Any) -> bool:
    """Whether a value passes a comparison (= != IN NOT IN LIKE NOT LIKE by text, the
    others as numbers, an unset value as 0)."""
    text = str(actual)
    if op == "=":
        return text == str(expected)
    if op == "!=":
        return text != str(expected)
    if op in ("IN", "NOT IN"):
        return (text in [str(e) for e in expected]) == (op == "IN")
    if op in ("LIKE", "NOT LIKE"):
        pattern = "^" + re.escape(str(expected)).replace("%", ".*").replace("_", ".") + "$"
        return bool(re.match(pattern, text, re.I)) == (op == "LIKE")
    return COMPARISONS[op](float(actual or 0), float(expected))


def _order_key(value: Any) -> tuple[int, float, str]:
    """Numbers (int64 strings too) by value, before any text."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def ordered(
    rows: Iterable[dict[str, Any]], query: SelectQuery, get: Callable[[dict[str, Any], str], Any]
) -> list[dict[str, Any]]:
    """The rows in the query's ORDER BY (stable: ties keep their order), at most LIMIT
    of them; `get(row, field)` reads a row's field."""
    out = list(rows)
    sorts = [(_by(get, name), desc) for name, desc in query.order]
    order_rows(out, lambda row: 0, sorts)
    return out[: query.limit] if query.limit else out


def _by(
    get: Callable[[dict[str, Any], str], Any], name: str
) -> Callable[[dict[str, Any]], tuple[int, float, str]]:
    return lambda row: _order_key(get(row, name))
