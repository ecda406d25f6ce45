"""The work of `almenvideo`'s commands other than `serve`: the demo, accounts, vendors, the
note-taker pilot, the old CPR hashes and the protocol's schema (the retention's and the
economy's commands live in their own packages).

Kept apart from `server.cli` so that `serve` does not import them: `server.cli` imports
this module only once one of these commands has been chosen (bench/cold_start.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from server.accounts import (
    CLI,
    NewAccount,
    Refused,
    create_organisation_with_admin,
    ensure_account,
)
from server.auth.cprkey import load_cpr_key
from server.cli import settings_from_args, with_redis
from server.clock import iso_utc
from server.demo import ensure_demo
from server.i18n import Locales
from server.settings import Settings
from server.signalling.messages import json_schema
from server.store import vendors
from server.store.audit import audit
from server.store.clinics import find_clinic, save_clinic
from server.store.connection import Redis
from server.store.cpr import forget_old_hashes
from server.store.organisations import Organisation
from server.store.users import UserRole
from server.store.vendors import Vendor, get_vendor, issue_api_key, list_api_keys, revoke_api_key
from server.store.webhooks import Webhook, register_webhook
from server.webhooks.destination import webhook_url_problem


def run(name: str, args: argparse.Namespace) -> int:
    """Run the command `name` (a function of this module); a refused account says why."""
    command: Callable[[argparse.Namespace], int] = globals()[name]
    try:
        return int(command(args))
    except Refused as refused:
        return _refused(args, refused)


def _print_login(title: str, url: str, username: str, password: str) -> None:
    print(f"{title + ':':<14}{url}")
    print(f"  username:   {username}")
    print(f"  password:   {password}")


def _print_account(title: str, url: str, account: NewAccount) -> None:
    _print_login(title, url, account.user.username, account.password)


def demo_setup(args: argparse.Namespace) -> int:
    demo: dict[str, Any] = with_redis(args, ensure_demo)
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


def create_admin(args: argparse.Namespace) -> int:
    """A platform admin to start from; run again for the same name, it sets a new password."""

    async def work(redis: Redis, settings: Settings) -> NewAccount:
        display_name = args.display_name or args.username
        return await ensure_account(redis, CLI, args.username, display_name, UserRole.ADMIN)

    account = with_redis(args, work)
    _print_account("Admin", f"{settings_from_args(args).public_base_url}/admin", account)
    return 0


def create_organisation(args: argparse.Namespace) -> int:
    async def work(redis: Redis, settings: Settings) -> tuple[Organisation, NewAccount]:
        display_name = args.admin_display_name or args.admin_username
        return await create_organisation_with_admin(
            redis, CLI, args.name, args.code, args.admin_username, display_name
        )

    org, account = with_redis(args, work)
    print(f"Organisation: {org.name} ({org.municipality_code})")
    _print_account("Its admin", f"{settings_from_args(args).public_base_url}/org", account)
    return 0


def vendor_webhook(args: argparse.Namespace) -> int:
    """Register (or move) a vendor's webhook; prints the new signing secret."""
    if found := webhook_url_problem(args.url, settings_from_args(args).webhook_allow_local):
        print(f"almenvideo: --url: {found}", file=sys.stderr)
        return 1

    async def work(redis: Redis, settings: Settings) -> Webhook | None:
        if await get_vendor(redis, args.vendor_id) is None:
            return None
        webhook = await register_webhook(redis, args.vendor_id, args.url)
        await audit(redis, "webhook.registered", CLI, vendor_id=args.vendor_id, url=args.url)
        return webhook

    webhook = with_redis(args, work)
    if webhook is None:
        print("almenvideo: --vendor-id: no vendor has this id", file=sys.stderr)
        return 1
    print(f"Webhook URL:  {webhook.url}")
    print(f"Secret:       {webhook.secret}")
    return 0


def create_vendor(args: argparse.Namespace) -> int:
    """An LPS vendor serving these clinics, and its first API key (shown once)."""

    async def work(redis: Redis, settings: Settings) -> tuple[Vendor, str] | str:
        clinic_ids = []
        for ydernummer in args.clinic:
            clinic = await find_clinic(redis, ydernummer)
            if clinic is None:
                return ydernummer
            clinic_ids.append(clinic.id)
        vendor = await vendors.create_vendor(redis, args.name, clinic_ids, args.origin)
        key = await issue_api_key(redis, vendor.id, label=args.label)
        await audit(redis, "vendor.created", CLI, vendor_id=vendor.id, clinic_ids=clinic_ids)
        return vendor, key

    made = with_redis(args, work)
    if isinstance(made, str):
        print(f"almenvideo: --clinic: no clinic has ydernummer {made}", file=sys.stderr)
        return 1
    vendor, key = made
    print(f"Vendor id:    {vendor.id}")
    print(f"API key:      {key}   (shown once)")
    return 0


def vendor_keys(args: argparse.Namespace) -> int:
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

    status, text = with_redis(args, work)
    print(text, file=sys.stderr if status else sys.stdout)
    return status


def _refused(args: argparse.Namespace, refused: Refused) -> int:
    locales = Locales(settings_from_args(args).web_dir / "locales")
    for field, key in refused.errors.items():
        print(f"almenvideo: {field}: {locales.translate('en', key)}", file=sys.stderr)
    return 1


def notetaker_pilot(args: argparse.Namespace) -> int:
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

    if not with_redis(args, work):
        print(f"no clinic with ydernummer {args.ydernummer}", file=sys.stderr)
        return 1
    print(f"clinic {args.ydernummer}: note-taker pilot {args.state}")
    return 0


def forget_old_cpr_hashes(args: argparse.Namespace) -> int:
    """Once, after upgrading to a CPR key outside Redis: delete the key Redis held and the
    hashes made with it (server.store.cpr explains why they cannot be re-keyed)."""

    async def work(redis: Redis, settings: Settings) -> int:
        cleared = await forget_old_hashes(redis, load_cpr_key(settings).id)
        await audit(redis, "cpr.old_hashes_forgotten", CLI, cleared=cleared)
        return cleared

    cleared = with_redis(args, work)
    print(f"deleted the CPR key kept in Redis; cleared {cleared} CPR hash(es) made with it")
    return 0


def schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0
