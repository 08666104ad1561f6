"""The refusal callback the kit's query readers take, for their tests: it keeps the kind
and values that an emulator would word in its network's own error."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    pass


def refuse(kind: str, **values: Any) -> Refused:
    return Refused(kind, values)
