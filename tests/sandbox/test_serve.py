"""`metrics-connect sandbox`: every emulator answers its demo account on loopback, from a
process of its own, and the process ends when its parent closes stdin."""

from __future__ import annotations

import httpx
import pytest

from metrics_connect.cli import main
from metrics_connect.sandbox.oauth import oauth_provider_names
from metrics_connect.sandbox.process import start_sandbox_process
from metrics_connect.sandbox.registry import available_sandboxes
from metrics_connect.sandbox.serve import SandboxDirectory, ServedNetwork
from tests.sandbox.served import ask


async def test_every_emulator_answers_its_demo_account_from_a_child_process() -> None:
    served = await start_sandbox_process([], 0, {})
    try:
        assert set(served.directory.networks) == set(available_sandboxes())
        assert served.directory.networks, "no emulator is installed"
        for network in served.directory.networks.values():
            assert network.base_url.startswith("http://127.0.0.1:")
            response = ask(network)
            assert response.status_code == 200, (network.slug, response.text)
        for slug in ("instagram_business", "facebook_ads"):
            network = served.directory.networks[slug]
            assert ask(network).json()["id"] == network.account_id
        ga4 = ask(served.directory.networks["google_analytics_4"]).json()
        assert int(ga4["rows"][0]["metricValues"][0]["value"]) > 0
        for url in served.directory.oauth.values():
            assert httpx.get(f"{url}/nothing").status_code == 404
    finally:
        served.stop()
    assert served.process.returncode == 0
    with pytest.raises(httpx.ConnectError):
        ask(next(iter(served.directory.networks.values())))


async def test_one_network_only() -> None:
    served = await start_sandbox_process(["facebook_ads"], 0, {})
    try:
        assert list(served.directory.networks) == ["facebook_ads"]
        assert set(served.directory.oauth) == set(oauth_provider_names())
        assert {"facebook_login", "google"} <= set(served.directory.oauth)
        assert ask(served.directory.networks["facebook_ads"]).json()["name"]
    finally:
        served.stop()


def test_directory_round_trips_and_points_settings_at_the_emulators() -> None:
    network = ServedNetwork(
        "facebook_ads", "http://127.0.0.1:1", "act_1", "t", "facebook_ads_api_base_url"
    )
    directory = SandboxDirectory({"facebook_ads": network}, {"google": "http://127.0.0.1:2"})
    assert SandboxDirectory.from_json(directory.to_json()) == directory
    overrides = directory.settings_overrides()
    assert overrides["facebook_ads_api_base_url"] == "http://127.0.0.1:1"
    assert overrides["google_token_url"] == "http://127.0.0.1:2/token"
    assert network.public() == {
        "base_url": "http://127.0.0.1:1",
        "account_id": "act_1",
        "access_token": "t",
    }


def test_unknown_network_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="no emulator for nope"):
        main(["sandbox", "--network", "nope"])


def test_bad_redirect_uri_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--redirect-uri", "github=http://x"]) == 2
    assert "PROVIDER=URI" in capsys.readouterr().err
