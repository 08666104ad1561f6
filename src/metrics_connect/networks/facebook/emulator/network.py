"""The Pages emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.facebook.emulator.app import PageGraphApp, page_token
from metrics_connect.networks.facebook.emulator.data import DEFAULT_SEED, PageData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork


class PageSandboxNetwork(SandboxNetwork):
    """A SandboxNetwork with the raw truth (`.data`) and the app (`.graph_app`) for tests."""

    data: PageData
    graph_app: PageGraphApp


def build_sandbox(seed: int = DEFAULT_SEED) -> PageSandboxNetwork:
    controls = SandboxControls()
    data = PageData(seed)
    app = PageGraphApp(data, controls, controls.clock.now)
    token = page_token(data.page_id, DEMO_ACCESS_TOKEN)
    network = PageSandboxNetwork(
        slug="facebook",
        controls=controls,
        app=app,
        settings_field="facebook_api_base_url",
        demo_account=DemoAccount(
            source_name=data.name,
            external_id=data.page_id,
            # The demo login's Page token, as the connector keeps it after its first call;
            # also the access token the sandbox's banner offers for asking the Page directly.
            credentials={"access_token": token, "page_access_token": token},
            timezone=data.page.timezone,
        ),
    )
    network.data = data
    network.graph_app = app
    return network
