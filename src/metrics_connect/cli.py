"""The `metrics-connect` command: serve, migrate, demo and operator commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings, get_settings


def _runtime(settings: Settings) -> Runtime:
    return Runtime.from_settings(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    if args.migrate:
        from metrics_connect.db.migrate import upgrade

        upgrade(settings.database_url)
    uvicorn.run(
        "metrics_connect.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        proxy_headers=True,
    )
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from metrics_connect.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from metrics_connect.demo.run import DemoOptions, run_demo

    options = DemoOptions(host=args.host, port=args.port, credentials_file=args.credentials_file)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(get_settings(), options))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    import signal

    from metrics_connect.sandbox.oauth.providers import oauth_provider_names
    from metrics_connect.sandbox.serve import (
        selected_slugs,
        serve_sandboxes,
        stop_when_stdin_closes,
    )

    slugs = selected_slugs(args.network)
    redirect_uris: dict[str, tuple[str, ...]] = {}
    for item in args.redirect_uri:
        provider, _, uri = item.partition("=")
        if provider not in oauth_provider_names() or not uri:
            print(f"error: --redirect-uri takes PROVIDER=URI, got {item!r}", file=sys.stderr)
            return 2
        redirect_uris[provider] = (*redirect_uris.get(provider, ()), uri)

    async def serve() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        if args.stop_on_stdin_eof:
            stop_when_stdin_closes(stop)
        await serve_sandboxes(
            slugs,
            args.port,
            stop,
            redirect_uris=redirect_uris,
            ready_file=args.ready_file,
            quiet=args.quiet,
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from metrics_connect.jobs.worker import run_workers

    return run_workers(get_settings(), processes=args.processes, threads=args.threads)


def cmd_generate_key(_args: argparse.Namespace) -> int:
    print(Fernet.generate_key().decode())
    return 0


async def _create_merchant(args: argparse.Namespace) -> int:
    from metrics_connect.accounts import service

    runtime = _runtime(get_settings())
    async with runtime.db.session() as session:
        created = await service.create_merchant(
            session,
            runtime.vault,
            runtime.settings,
            args.name,
            rate_limit_per_second=args.rate_limit_per_second,
            rate_limit_per_minute=args.rate_limit_per_minute,
        )
        await session.commit()
        print(f"merchant uuid:  {created.record.uuid}")
        print(f"merchant token: {created.token}")
        print("Store the token now: it is kept only as a hash and cannot be shown again.")
    await runtime.db.dispose()
    return 0


async def _list_merchants(_args: argparse.Namespace) -> int:
    from metrics_connect.accounts.models import Customer, Merchant

    runtime = _runtime(get_settings())
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(Merchant, func.count(Customer.id))
            .outerjoin(Customer, Customer.merchant_id == Merchant.id)
            .group_by(Merchant.id)
            .order_by(Merchant.id)
        )
        print(f"{'uuid':<36}  {'customers':>9}  {'limits (s/min)':>14}  name")
        for merchant, customers in rows:
            limits = f"{merchant.rate_limit_per_second}/{merchant.rate_limit_per_minute}"
            print(f"{merchant.uuid:<36}  {customers:>9}  {limits:>14}  {merchant.name}")
    await runtime.db.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metrics-connect", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="API processes")
    p.add_argument("--migrate", action="store_true", help="apply migrations first")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="sandboxes + API with seeded demo data")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--credentials-file", type=Path, default=None)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "sandbox", help="serve the network and OAuth emulators on 127.0.0.1 for your own client"
    )
    p.add_argument(
        "--network",
        action="append",
        metavar="SLUG",
        help="serve only this network's emulator (repeatable; default: all installed)",
    )
    p.add_argument(
        "--port", type=int, default=8100, help="first port; the others follow (0: any free)"
    )
    p.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="PROVIDER=URI",
        help="accept only this OAuth redirect URI for a provider, facebook_login say "
        "(default: any http(s))",
    )
    p.add_argument("--ready-file", type=Path, default=None, help="write what is served as JSON")
    p.add_argument("--quiet", action="store_true", help="print no banner")
    p.add_argument(
        "--stop-on-stdin-eof", action="store_true", help="stop when stdin closes (child process)"
    )
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("create-merchant", help="create a merchant and print its token once")
    p.add_argument("name")
    p.add_argument("--rate-limit-per-second", type=int, default=None)
    p.add_argument("--rate-limit-per-minute", type=int, default=None)
    p.set_defaults(func=lambda a: asyncio.run(_create_merchant(a)))

    p = sub.add_parser("list-merchants", help="list merchants")
    p.set_defaults(func=lambda a: asyncio.run(_list_merchants(a)))

    p = sub.add_parser("worker", help="run a job worker (needs METRICS_CONNECT_BROKER_URL)")
    p.add_argument("--processes", type=int, default=1, help="worker processes to run")
    p.add_argument("--threads", type=int, default=None, help="steps at once per process")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("generate-key", help="print a new credentials encryption key")
    p.set_defaults(func=cmd_generate_key)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except Exception as exc:  # operator-facing: one clear line, not a trace
        from metrics_connect.accounts.credentials import CredentialsKeyMissing

        if isinstance(exc, CredentialsKeyMissing):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
    return result


if __name__ == "__main__":
    sys.exit(main())
