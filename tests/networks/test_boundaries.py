"""A network lives in its folder: its slug named anywhere else under src/ is a slug table
coming back, and adding a network would again mean editing shared code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from metrics_connect.networks.registry import networks

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "metrics_connect"
NETWORKS_DIR = PACKAGE / "networks"
SOURCE_SUFFIXES = {".py", ".yaml", ".yml", ".html", ".json", ".toml", ".ini", ".css", ".js"}


def leaks(slug: str, package: Path) -> list[str]:
    """Files of the package outside networks/<slug>/ that name the slug as a whole word.

    Inside another network's folder the slug may be data of that network (Meta's
    `publisher_platform` value `facebook` in Meta Ads rows); only a reach into the
    network's package (`networks.<slug>`, `networks/<slug>`) couples the two."""
    own = package / "networks" / slug
    # A host name is not a slug table: graph.facebook.com in a provider's URL is the API;
    # nor is a hyphenated wire name (a header such as facebook-api-version).
    named = re.compile(rf"(?<![\w-]){re.escape(slug)}(?![\w-])(?!\.(?:com|net|org|io)\b)")
    reached = re.compile(rf"networks[./]{re.escape(slug)}(?![\w])")
    found = []
    for path in package.rglob("*"):
        if not path.is_file() or path.suffix not in SOURCE_SUFFIXES or own in path.parents:
            continue
        in_a_network = (
            package / "networks"
        ) in path.parents and path.parent != package / "networks"
        text = path.read_text(encoding="utf-8")
        if (reached if in_a_network else named).search(text):
            found.append(str(path.relative_to(package)))
    return sorted(found)


@pytest.mark.parametrize("slug", sorted(networks()))
def test_a_network_is_named_only_in_its_own_folder(slug: str) -> None:
    assert leaks(slug, PACKAGE) == []


def test_the_check_finds_a_slug_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "networks" / "acme_ads").mkdir(parents=True)
    (tmp_path / "networks" / "acme_ads" / "hooks.py").write_text('SLUG = "acme_ads"\n')
    (tmp_path / "engine.py").write_text('TABLE = {"acme_ads": 1}\n')
    (tmp_path / "settings.py").write_text("acme_ads_api_base_url = 1  # a longer word\n")
    (tmp_path / "providers.yaml").write_text("token_url: https://api.acme_ads.com/token\n")
    (tmp_path / "wire.yaml").write_text("version_header: acme_ads-api-version\n")
    (tmp_path / "networks" / "other").mkdir()
    (tmp_path / "networks" / "other" / "rows.yaml").write_text("platform: acme_ads\n")
    (tmp_path / "networks" / "other" / "hooks.py").write_text(
        "from metrics_connect.networks.acme_ads import hooks\n"
    )
    assert leaks("acme_ads", tmp_path) == ["engine.py", "networks/other/hooks.py"]


def test_every_network_folder_is_discovered() -> None:
    folders = {p.parent.name for p in NETWORKS_DIR.glob("*/network.yaml")}
    assert folders == set(networks())
    assert len(folders) >= 3
