"""The README stays true: its two set-up commands exist and every setting is documented."""

from __future__ import annotations

import os
import re
from pathlib import Path

from metrics_connect.networks.registry import settings_specs
from metrics_connect.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    names = [*Settings.model_fields, *(name for name, _, _ in settings_specs())]
    missing = [
        f"METRICS_CONNECT_{name.upper()}"
        for name in names
        if f"`METRICS_CONNECT_{name.upper()}`" not in README
    ]
    assert not missing, f"README lacks {missing}"


def test_the_two_set_up_commands_exist_and_ci_runs_the_test_one() -> None:
    block = README.split("## Set up", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./scripts/demo", "./scripts/test"]
    for command in commands:
        path = ROOT / command
        assert path.is_file() and os.access(path, os.X_OK), command
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\./scripts/test\b", ci, re.MULTILINE)


def test_linked_documents_exist() -> None:
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", README):
        assert (ROOT / target).is_file(), target
