"""Deterministic pseudo-randomness: every number the emulator serves is a function of
(seed, what, when, which), so two emulators with the same seed agree and nothing depends
on import order or call order."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

_SCALE = float(2**64)


def unit(*parts: object) -> float:
    """A stable number in [0, 1) for the given key parts."""
    key = "|".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


def draws(*parts: object) -> random.Random:
    """A generator seeded from the key parts: one hash for a whole object's numbers."""
    return random.Random(int(unit(*parts) * _SCALE))


def between(low: float, high: float, *parts: object) -> float:
    return low + (high - low) * unit(*parts)


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split an integer total by weights (largest remainder), so the parts sum to it."""
    if total <= 0 or not weights:
        return [0 for _ in weights]
    weight_sum = sum(weights)
    if weight_sum <= 0:
        parts = [0 for _ in weights]
        parts[0] = total
        return parts
    raw = [total * w / weight_sum for w in weights]
    parts = [int(r) for r in raw]
    rest = total - sum(parts)
    by_remainder = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in by_remainder[:rest]:
        parts[i] += 1
    return parts
