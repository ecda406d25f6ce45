"""Command line: `almenvideo serve | demo-setup | create-admin | create-organisation |
create-vendor | vendor-key | vendor-webhook | notetaker-pilot | forget-old-cpr-hashes |
retention | subject-export | invoices issue | capacities import | schema`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from server.accesslog import RedactingAccessLogger
from server.accounts import (
    CLI,
    NewAccount,
    Refused,
    create_organisation_with_admin,
    ensure_account,
)
from server.app import create_app
from server.auth.cprkey import load_cpr_key
from server.clock import iso_utc
from server.demo import ensure_demo
from server.i18n import Locales
from server.pilots.commands import add_economy_parsers
from server.retention.commands import add_retention_parser, add_subject_parser
from server.settings import Settings, SettingsError
from server.signalling.messages import json_schema
from server.store.audit import audit
from server.store.clinics import find_clinic, save_clinic
from server.store.connection import Redis, open_redis
from server.store.cpr import forget_old_hashes
from server.store.organisations import Organisation
from server.store.users import UserRole
from server.store.vendors import (
    Vendor,
    create_vendor,
    get_vendor,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
)
from server.store.webhooks import Webhook, register_webhook
from server.webhooks.destination import webhook_url_problem

T = TypeVar("T")


def _settings(args: argparse.Namespace) -> Settings:
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
    settings = _settings(args)
    _raise_open_file_limit()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=RedactingAccessLogger,
        print=lambda text: print(f"almenvideo {settings.instance_id}: {text}", flush=True),
    )
    return 0


def _with_redis(args: argparse.Namespace, work: Callable[[Redis, Settings], Awaitable[T]]) -> T:
    settings = _settings(args)

    async def run() -> T:
        async with open_redis(settings) as redis:
            return await work(redis, settings)

    return asyncio.run(run())


def _print_login(title: str, url: str, username: str, password: str) -> None:
    print(f"{title + ':':<14}{url}")
    print(f"  username:   {username}")
    print(f"  password:   {password}")


def _print_account(title: str, url: str, account: NewAccount) -> None:
    _print_login(title, url, account.user.username, account.password)


def _demo_setup(args: argparse.Namespace) -> int:
    demo: dict[str, Any] = _with_redis(args, ensure_demo)
    if args.json:
        print(json.dumps(demo, ensure_ascii=False))
    else:
        base = demo["base_url"]
        _print_login("GP console", demo["clinician_url"], **demo["gp"])
        print(f"Patient link: {demo['patient_url']}")
        print(f"Drop-in link: {demo['dropin_url']}")
        print(f"LPS API key:  {demo['api_key']}")
        _print_login("Admin", f"{base}/admin", **demo["admin"])
        _print_login("Municipality", f"{base}/org", **demo["org_admin"])
        _print_login("Nurse", f"{base}/directory", **demo["staff"])
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    """A platform admin to start from; run again for the same name, it sets a new password."""

    async def work(redis: Redis, settings: Settings) -> NewAccount:
        display_name = args.display_name or args.username
        return await ensure_account(redis, CLI, args.username, display_name, UserRole.ADMIN)

    account = _with_redis(args, work)
    _print_account("Admin", f"{_settings(args).public_base_url}/admin", account)
    return 0


def _create_organisation(args: argparse.Namespace) -> int:
    async def work(redis: Redis, settings: Settings) -> tuple[Organisation, NewAccount]:
        display_name = args.admin_display_name or args.admin_username
        return await create_organisation_with_admin(
            redis, CLI, args.name, args.code, args.admin_username, display_name
        )

    org, account = _with_redis(args, work)
    print(f"Organisation: {org.name} ({org.municipality_code})")
    _print_account("Its admin", f"{_settings(args).public_base_url}/org", account)
    return 0


def _vendor_webhook(args: argparse.Namespace) -> int:
    """Register (or move) a vendor's webhook; prints the new signing secret."""
    if found := webhook_url_problem(args.url, _settings(args).webhook_allow_local):
        print(f"almenvideo: --url: {found}", file=sys.stderr)
        return 1

    async def work(redis: Redis, settings: Settings) -> Webhook | None:
        if await get_vendor(redis, args.vendor_id) is None:
            return None
        webhook = await register_webhook(redis, args.vendor_id, args.url)
        await audit(redis, "webhook.registered", CLI, vendor_id=args.vendor_id, url=args.url)
        return webhook

    webhook = _with_redis(args, work)
    if webhook is None:
        print("almenvideo: --vendor-id: no vendor has this id", file=sys.stderr)
        return 1
    print(f"Webhook URL:  {webhook.url}")
    print(f"Secret:       {webhook.secret}")
    return 0


def _create_vendor(args: argparse.Namespace) -> int:
    """An LPS vendor serving these clinics, and its first API key (shown once)."""

    async def work(redis: Redis, settings: Settings) -> tuple[Vendor, str] | str:
        clinic_ids = []
        for ydernummer in args.clinic:
            clinic = await find_clinic(redis, ydernummer)
            if clinic is None:
                return ydernummer
            clinic_ids.append(clinic.id)
        vendor = await create_vendor(redis, args.name, clinic_ids, args.origin)
        key = await issue_api_key(redis, vendor.id, label=args.label)
        await audit(redis, "vendor.created", CLI, vendor_id=vendor.id, clinic_ids=clinic_ids)
        return vendor, key

    made = _with_redis(args, work)
    if isinstance(made, str):
        print(f"almenvideo: --clinic: no clinic has ydernummer {made}", file=sys.stderr)
        return 1
    vendor, key = made
    print(f"Vendor id:    {vendor.id}")
    print(f"API key:      {key}   (shown once)")
    return 0


def _vendor_keys(args: argparse.Namespace) -> int:
    """Issue, list or revoke a vendor's API keys."""

    async def work(redis: Redis, settings: Settings) -> tuple[int, str]:
        vendor_id = args.vendor_id
        if await get_vendor(redis, vendor_id) is None:
            return 1, "almenvideo: --vendor-id: no vendor has this id"
        if args.action == "issue":
            key = await issue_api_key(redis, vendor_id, label=args.label)
            await audit(redis, "vendor.key_issued", CLI, vendor_id=vendor_id)
            return 0, f"API key:      {key}   (shown once)"
        if args.action == "revoke":
            if not await revoke_api_key(redis, vendor_id, args.key_id or ""):
                return 1, "almenvideo: --key-id: this vendor has no such key"
            await audit(redis, "vendor.key_revoked", CLI, vendor_id=vendor_id, key_id=args.key_id)
            return 0, f"Revoked:      {args.key_id}"
        listed = await list_api_keys(redis, vendor_id)
        return 0, "\n".join(f"{k.id}  {iso_utc(k.created_at)}  {k.label}" for k in listed)

    status, text = _with_redis(args, work)
    print(text, file=sys.stderr if status else sys.stdout)
    return status


def _refused(args: argparse.Namespace, refused: Refused) -> int:
    locales = Locales(_settings(args).web_dir / "locales")
    for field, key in refused.errors.items():
        print(f"almenvideo: {field}: {locales.translate('en', key)}", file=sys.stderr)
    return 1


def _notetaker_pilot(args: argparse.Namespace) -> int:
    """Enrol a clinic in the note-taker pilot, or take it out (until pilots have their own
    enrolment, the pilot is a clinic setting)."""
    enrolled = args.state == "on"

    async def work(redis: Redis, settings: Settings) -> bool:
        clinic = await find_clinic(redis, args.ydernummer)
        if clinic is None:
            return False
        await save_clinic(redis, replace(clinic, notetaker_pilot=enrolled))
        await audit(redis, "notetaker.pilot", CLI, clinic_id=clinic.id, enrolled=enrolled)
        return True

    if not _with_redis(args, work):
        print(f"no clinic with ydernummer {args.ydernummer}", file=sys.stderr)
        return 1
    print(f"clinic {args.ydernummer}: note-taker pilot {args.state}")
    return 0


def _forget_old_cpr_hashes(args: argparse.Namespace) -> int:
    """Once, after upgrading to a CPR key outside Redis: delete the key Redis held and the
    hashes made with it (server.store.cpr explains why they cannot be re-keyed)."""

    async def work(redis: Redis, settings: Settings) -> int:
        cleared = await forget_old_hashes(redis, load_cpr_key(settings).id)
        await audit(redis, "cpr.old_hashes_forgotten", CLI, cleared=cleared)
        return cleared

    cleared = _with_redis(args, work)
    print(f"deleted the CPR key kept in Redis; cleared {cleared} CPR hash(es) made with it")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


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
    demo.set_defaults(run=_demo_setup)
    admin = commands.add_parser(
        "create-admin", help="create a platform admin, or give one a new password; prints it"
    )
    _add_common(admin)
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", help="shown on the pages (default: the user name)")
    admin.set_defaults(run=_create_admin)
    org = commands.add_parser(
        "create-organisation",
        help="create a municipality with its first admin; prints the admin's password",
    )
    _add_common(org)
    org.add_argument("--name", required=True, help='e.g. "Københavns Kommune"')
    org.add_argument("--code", required=True, help="the three-digit municipality code, e.g. 101")
    org.add_argument("--admin-username", required=True)
    org.add_argument("--admin-display-name", help="(default: the user name)")
    org.set_defaults(run=_create_organisation)
    hook = commands.add_parser(
        "vendor-webhook",
        help="set where a vendor's webhooks go; prints a new signing secret (the old one stops)",
    )
    _add_common(hook)
    hook.add_argument("--vendor-id", required=True)
    hook.add_argument("--url", required=True, help="https://… (http:// only to localhost)")
    hook.set_defaults(run=_vendor_webhook)
    vendor = commands.add_parser(
        "create-vendor", help="create an LPS vendor for some clinics; prints its first API key"
    )
    _add_common(vendor)
    vendor.add_argument("--name", required=True)
    vendor.add_argument("--clinic", required=True, action="append", help="a ydernummer (repeat)")
    vendor.add_argument("--origin", action="append", default=[], help="may frame the GP view")
    vendor.add_argument("--label", default="", help="names the key, e.g. production")
    vendor.set_defaults(run=_create_vendor)
    keys = commands.add_parser("vendor-key", help="issue, list or revoke a vendor's API keys")
    _add_common(keys)
    keys.add_argument("action", choices=["issue", "list", "revoke"])
    keys.add_argument("--vendor-id", required=True)
    keys.add_argument("--label", default="", help="issue: names the key")
    keys.add_argument("--key-id", help="revoke: the key's id, from list")
    keys.set_defaults(run=_vendor_keys)
    pilot = commands.add_parser(
        "notetaker-pilot", help="enrol a clinic in the AI note-taker pilot (on) or not (off)"
    )
    _add_common(pilot)
    pilot.add_argument("ydernummer")
    pilot.add_argument("state", choices=["on", "off"])
    pilot.set_defaults(run=_notetaker_pilot)
    forget = commands.add_parser(
        "forget-old-cpr-hashes",
        help="once, after upgrading: delete the CPR key kept in Redis and the hashes made with it",
    )
    _add_common(forget)
    forget.set_defaults(run=_forget_old_cpr_hashes)
    add_retention_parser(commands, _add_common, _with_redis)
    add_subject_parser(commands, _add_common, _with_redis)
    add_economy_parsers(commands, _add_common, _with_redis)
    schema = commands.add_parser("schema", help="print the signalling protocol as JSON Schema")
    schema.set_defaults(run=_schema)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except Refused as refused:
        return _refused(args, refused)
    except SettingsError as misconfigured:
        print(f"almenvideo: configuration: {misconfigured}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
