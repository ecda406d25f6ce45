"""Command line: `almenvideo serve | demo-setup | create-admin | create-organisation |
create-vendor | vendor-key | vendor-webhook | notetaker-pilot | forget-old-cpr-hashes |
retention | subject-export | invoices issue | capacities import | schema`.

A restart waits for `serve`, so this module imports only what reading the command line
needs: `serve` begins the embedded Redis (server.store.embedded) before it imports the app,
so Redis starts while Python imports, and the other commands' work (server.commands) is
imported once one of them has been chosen. bench/cold_start.py measures it."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import resource
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from server.pilots.commands import add_economy_parsers
from server.retention.commands import add_retention_parser, add_subject_parser
from server.settings import Settings, SettingsError
from server.store.embedded import EmbeddedRedis

if TYPE_CHECKING:
    from server.store.connection import Redis

T = TypeVar("T")


def settings_from_args(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    sentinels = tuple(
        address.strip()
        for flag in getattr(args, "redis_sentinel", None) or ()
        for address in flag.split(",")
        if address.strip()
    )
    # Flags win over the environment: a Redis named by flag replaces the environment's, of
    # either kind (both named by flags is refused by the settings).
    if sentinels:
        env.pop("REDIS_URL", None)
    if getattr(args, "redis_url", None):
        env.pop("REDIS_SENTINELS", None)
    return Settings.from_env(
        env,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None,
        redis_url=getattr(args, "redis_url", None),
        redis_sentinels=sentinels or None,
        redis_master=getattr(args, "redis_master", None),
        base_url=getattr(args, "base_url", None),
    )


def _raise_open_file_limit() -> None:
    """Every waiting patient holds a socket: allow as many as the system lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    embedded = None
    if not settings.redis_url and not settings.redis_sentinels:
        embedded = EmbeddedRedis(settings.data_dir)
        embedded.begin()
    # Importing and building the app makes objects that live as long as the process, and
    # almost no garbage: collecting meanwhile only walks them again and again (a tenth of
    # the start). They are then frozen out of the collector's sight, as server.gcpolicy
    # does every minute.
    gc.disable()
    from server.tlsdefaults import import_aiohttp

    import_aiohttp()  # before anything else imports it: server/tlsdefaults.py says why
    from aiohttp import web

    from server.accesslog import RedactingAccessLogger
    from server.app import create_app

    app = create_app(settings, embedded)
    gc.freeze()
    gc.enable()
    _raise_open_file_limit()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log_class=RedactingAccessLogger,
        print=lambda text: print(f"almenvideo {settings.instance_id}: {text}", flush=True),
    )
    return 0


def with_redis(args: argparse.Namespace, work: Callable[[Redis, Settings], Awaitable[T]]) -> T:
    from server.store.connection import open_redis

    settings = settings_from_args(args)

    async def run() -> T:
        async with open_redis(settings) as redis:
            return await work(redis, settings)

    return asyncio.run(run())


def _later(name: str) -> Callable[[argparse.Namespace], int]:
    """The command `name` of server.commands, imported when it runs."""

    def run(args: argparse.Namespace) -> int:
        from server import commands

        return commands.run(name, args)

    return run


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="where the embedded Redis keeps its data (default ./var)"
    )
    parser.add_argument("--redis-url", help="use this Redis instead of the embedded one")
    parser.add_argument(
        "--redis-sentinel",
        action="append",
        metavar="HOST:PORT",
        help="a Redis Sentinel that knows the master (repeat, or comma-separated)",
    )
    parser.add_argument(
        "--redis-master", help="the master's name at the Sentinels (default almenvideo)"
    )
    parser.add_argument(
        "--base-url", help="public URL of the site, for links (default from host/port)"
    )
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="almenvideo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server")
    _add_common(serve)
    serve.set_defaults(run=_serve)
    demo = commands.add_parser("demo-setup", help="create the demo clinic and print its logins")
    _add_common(demo)
    demo.add_argument("--json", action="store_true", help="print JSON")
    demo.set_defaults(run=_later("demo_setup"))
    admin = commands.add_parser(
        "create-admin", help="create a platform admin, or give one a new password; prints it"
    )
    _add_common(admin)
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", help="shown on the pages (default: the user name)")
    admin.set_defaults(run=_later("create_admin"))
    org = commands.add_parser(
        "create-organisation",
        help="create a municipality with its first admin; prints the admin's password",
    )
    _add_common(org)
    org.add_argument("--name", required=True, help='e.g. "Københavns Kommune"')
    org.add_argument("--code", required=True, help="the three-digit municipality code, e.g. 101")
    org.add_argument("--admin-username", required=True)
    org.add_argument("--admin-display-name", help="(default: the user name)")
    org.set_defaults(run=_later("create_organisation"))
    hook = commands.add_parser(
        "vendor-webhook",
        help="set where a vendor's webhooks go; prints a new signing secret (the old one stops)",
    )
    _add_common(hook)
    hook.add_argument("--vendor-id", required=True)
    hook.add_argument("--url", required=True, help="https://… (http:// only to localhost)")
    hook.set_defaults(run=_later("vendor_webhook"))
    vendor = commands.add_parser(
        "create-vendor", help="create an LPS vendor for some clinics; prints its first API key"
    )
    _add_common(vendor)
    vendor.add_argument("--name", required=True)
    vendor.add_argument("--clinic", required=True, action="append", help="a ydernummer (repeat)")
    vendor.add_argument("--origin", action="append", default=[], help="may frame the GP view")
    vendor.add_argument("--label", default="", help="names the key, e.g. production")
    vendor.set_defaults(run=_later("create_vendor"))
    keys = commands.add_parser("vendor-key", help="issue, list or revoke a vendor's API keys")
    _add_common(keys)
    keys.add_argument("action", choices=["issue", "list", "revoke"])
    keys.add_argument("--vendor-id", required=True)
    keys.add_argument("--label", default="", help="issue: names the key")
    keys.add_argument("--key-id", help="revoke: the key's id, from list")
    keys.set_defaults(run=_later("vendor_keys"))
    pilot = commands.add_parser(
        "notetaker-pilot", help="enrol a clinic in the AI note-taker pilot (on) or not (off)"
    )
    _add_common(pilot)
    pilot.add_argument("ydernummer")
    pilot.add_argument("state", choices=["on", "off"])
    pilot.set_defaults(run=_later("notetaker_pilot"))
    forget = commands.add_parser(
        "forget-old-cpr-hashes",
        help="once, after upgrading: delete the CPR key kept in Redis and the hashes made with it",
    )
    _add_common(forget)
    forget.set_defaults(run=_later("forget_old_cpr_hashes"))
    add_retention_parser(commands, _add_common, with_redis)
    add_subject_parser(commands, _add_common, with_redis)
    add_economy_parsers(commands, _add_common, with_redis)
    schema = commands.add_parser("schema", help="print the signalling protocol as JSON Schema")
    schema.set_defaults(run=_later("schema"))
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as misconfigured:
        print(f"almenvideo: configuration: {misconfigured}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
