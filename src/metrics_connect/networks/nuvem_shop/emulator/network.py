"""The Nuvemshop emulator as a sandbox network (demo, tests), and its app-installation
OAuth emulator: the sandbox kit's authorization server answering as Nuvemshop's token
endpoint does: `access_token`, `token_type: bearer`, `scope` and `user_id` (the store
id); tokens never expire and there is no refresh token."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from metrics_connect.networks.nuvem_shop.emulator.app import create_app
from metrics_connect.networks.nuvem_shop.emulator.data import StoreData
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.oauth_server import build_generic_oauth
from metrics_connect.sandbox.kit.spec import load_spec
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "nuvem_shop"


def build_sandbox() -> SandboxNetwork:
    data = StoreData()
    controls = SandboxControls()
    network = SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="nuvem_shop_api_base_url",
        demo_account=DemoAccount(
            source_name=f"{data.store['name']['pt']} ({data.store['id']})",
            external_id=str(data.store["id"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "user_id": str(data.store["id"])},
            timezone=str(data.store["timezone"]),
        ),
    )
    return network


def token_answer(fields: dict[str, Any]) -> Response:
    body = {
        "access_token": fields["access_token"],
        "token_type": "bearer",
        "scope": str(fields.get("scope") or "").replace(" ", ","),
        "user_id": int(load_spec(__package__ or "", "data.yaml", "store", dict[str, Any])["id"]),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def build_oauth(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> Any:
    return build_generic_oauth(
        spec, redirect_uris, access_lifetime=None, rotate_refresh=False, token_answer=token_answer
    )
