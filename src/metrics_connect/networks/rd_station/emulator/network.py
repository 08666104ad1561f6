"""The RD Station Marketing emulator as a sandbox network (demo, tests): the analytics
and account routes (`app.py`), the segmentations and contacts (`contacts_api.py`); its
OAuth provider is the sandbox kit's generic authorization server on the declared URLs."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from metrics_connect.networks.rd_station.emulator.app import MarketingApp, guarded
from metrics_connect.networks.rd_station.emulator.contacts_api import ContactsApi
from metrics_connect.networks.rd_station.emulator.data import MarketingData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "rd_station"


def create_app(data: MarketingData, controls: SandboxControls) -> Starlette:
    api = MarketingApp(data, controls)
    contacts = ContactsApi(api, data.leads)
    names = ("funnels", "emails", "conversions", "workflow_emails")
    routes = [Route(f"/platform/analytics/{n}", guarded(api.analytics)) for n in names]
    routes += [
        Route("/marketing/account_info", guarded(api.account_info)),
        Route("/platform/segmentations", guarded(contacts.segmentations)),
        Route("/platform/segmentations/{segmentation}/contacts", guarded(contacts.members)),
        Route("/platform/contacts/{contact}", guarded(contacts.contact)),
        Route("/platform/contacts/{contact}/funnels/{funnel}", guarded(contacts.funnel)),
        Route("/platform/contacts/{contact}/events", guarded(contacts.events)),
    ]
    app = Starlette(routes=routes)
    app.state.api = api
    return app


def build_sandbox() -> SandboxNetwork:
    data = MarketingData()
    controls = SandboxControls()
    return SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="rd_station_api_base_url",
        demo_account=DemoAccount(
            source_name=str(data.account["name"]),
            external_id=str(data.account["account_id"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone="America/Sao_Paulo",
        ),
    )
