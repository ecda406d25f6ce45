"""`almenvideo retention doc | run [--dry-run] | cancel-clinic | withdraw | pilot-ended`
and `almenvideo subject-export --cpr … | --consultation …`: the operators' side of
retention and of patients' access requests.

The commands import their work when they run: `serve` builds the same parser, and does not
wait for these imports (server/cli.py)."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, TypeVar

T = TypeVar("T")

if TYPE_CHECKING:
    from server.settings import Settings
    from server.store.connection import Redis

    WithRedis = Callable[[argparse.Namespace, Callable[[Redis, Settings], Awaitable[T]]], T]


def add_retention_parser(
    commands: argparse._SubParsersAction,
    add_common: Callable[[argparse.ArgumentParser], None],
    with_redis: WithRedis[int],
) -> None:
    retention = commands.add_parser(
        "retention", help="what is kept (doc), delete what is due (run), cancel a clinic"
    )
    add_common(retention)
    retention.add_argument(
        "action", choices=["doc", "run", "cancel-clinic", "withdraw", "pilot-ended"]
    )
    retention.add_argument("ydernummer", nargs="?", help="cancel-clinic, withdraw: the clinic")
    retention.add_argument("--on", help="cancel-clinic, pilot-ended: the day (YYYY-MM-DD)")
    retention.add_argument("--dry-run", action="store_true", help="run: only report")
    retention.set_defaults(run=lambda args: retention_command(args, with_redis))


def retention_command(args: argparse.Namespace, with_redis: WithRedis[int]) -> int:
    from server.accounts import CLI
    from server.clock import now
    from server.retention.cancellation import cancel_clinic
    from server.retention.doc import retention_markdown
    from server.retention.job import run_once_locked
    from server.retention.table import CANCELLATION_NOTICE_SECONDS
    from server.store.audit import audit
    from server.store.clinics import find_clinic
    from server.store.retention import set_pilot_ended, withdraw_cancellation

    if args.action == "doc":
        print(retention_markdown(), end="")
        return 0

    async def work(redis: Redis, settings: Settings) -> int:
        if args.action == "run":
            holder = f"cli:{secrets.token_hex(4)}"
            report = await run_once_locked(redis, holder, now(), dry_run=args.dry_run)
            if report is None:
                print("another instance is running the retention job; try again later")
                return 1
            print(json.dumps({"dry_run": args.dry_run, **report.summary()}, indent=2))
            return 0
        if args.action == "pilot-ended":
            if not args.on:
                print("pilot-ended needs --on YYYY-MM-DD")
                return 2
            date.fromisoformat(args.on)
            await set_pilot_ended(redis, args.on)
            await audit(redis, "pilot.notetaker_ended", CLI, ended_on=args.on)
            print(f"note-taker pilot ended on {args.on}")
            return 0
        if not args.ydernummer:
            print(f"{args.action} needs a ydernummer")
            return 2
        if args.action == "withdraw":
            clinic = await find_clinic(redis, args.ydernummer)
            if clinic is None or not await withdraw_cancellation(redis, clinic.id):
                print(f"clinic {args.ydernummer}: no cancellation to withdraw")
                return 1
            await audit(redis, "clinic.cancellation_withdrawn", CLI, clinic_id=clinic.id)
            print(f"clinic {args.ydernummer}: cancellation withdrawn")
            return 0
        try:
            c = await cancel_clinic(
                redis, args.ydernummer, args.on or date.today().isoformat(), CLI
            )
        except LookupError as missing:
            print(missing)
            return 1
        print(
            f"clinic {args.ydernummer}: cancelled from {c.cancelled_on}; "
            f"its data is deleted after {CANCELLATION_NOTICE_SECONDS // 86400} days"
        )
        return 0

    return with_redis(args, work)


def add_subject_parser(
    commands: argparse._SubParsersAction,
    add_common: Callable[[argparse.ArgumentParser], None],
    with_redis: WithRedis[int],
) -> None:
    export = commands.add_parser(
        "subject-export", help="everything held about one patient, as JSON (GDPR art. 15)"
    )
    add_common(export)
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--cpr", help="the patient's CPR number; matched by its keyed hash")
    which.add_argument("--consultation", help="a consultation id")
    export.set_defaults(run=lambda args: subject_command(args, with_redis))


def subject_command(args: argparse.Namespace, with_redis: WithRedis[int]) -> int:
    from server.accounts import CLI
    from server.auth.cprkey import load_cpr_key
    from server.retention.subject import export_for
    from server.store.audit import audit

    async def work(redis: Redis, settings: Settings) -> int:
        try:
            found = await export_for(
                redis,
                load_cpr_key(settings),
                cpr=args.cpr or "",
                consultation=args.consultation or "",
            )
        except ValueError as bad:
            print(f"almenvideo: {bad}", file=sys.stderr)
            return 2
        ids = [c["consultation"]["id"] for c in found["consultations"]]
        await audit(redis, "subject.exported", CLI, consultation_ids=ids)
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0

    return with_redis(args, work)
