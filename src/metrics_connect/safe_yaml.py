"""YAML text read safely, by libyaml's parser where PyYAML was built with it: the same
safe constructor as yaml.safe_load, parsed several times faster (every emulator's
data.yaml and every streams.yaml is read on each build)."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """The document in `text`, as yaml.safe_load gives it."""
    return yaml.load(text, Loader=SafeLoader)
