"""The sandbox kit's parameter readers: absent, good and refused values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metrics_connect.sandbox.kit.params import instant_param, int_param


def refuse(value: object) -> Exception:
    return LookupError(f"bad {value!r}")


def test_instants() -> None:
    assert instant_param(None, refuse) is None and instant_param("", refuse) is None
    expected = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert instant_param("2026-03-01T09:00:00-03:00", refuse) == expected
    assert instant_param(str(int(expected.timestamp() * 1000)), refuse) == expected
    with pytest.raises(LookupError, match="bad 'March'"):
        instant_param("March", refuse)


def test_integers() -> None:
    assert int_param(None, 10, refuse) == 10 and int_param("", 3, refuse) == 3
    assert int_param("25", 10, refuse) == 25 and int_param(7, 10, refuse) == 7
    with pytest.raises(LookupError, match=r"bad \[1\]"):
        int_param([1], 10, refuse)
