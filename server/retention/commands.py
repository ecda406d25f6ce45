"""`almenvideo retention doc | run [--dry-run] | cancel-clinic | withdraw | pilot-ended`
and `almenvideo subject-export --cpr … | --consultation …`: the operators' side of
retention and of patients' access requests."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from server.accounts import CLI
from server.auth.cprkey import CprKey, load_cpr_key
from server.clock import now
from server.retention.doc import retention_markdown
from server.retention.job import day_start, run_once_locked
from server.retention.subject import consultations_for_cpr_hash, subject_export
from server.retention.table import CANCELLATION_NOTICE_SECONDS
from server.settings import Settings
from server.store.audit import audit
from server.store.clinics import find_clinic
from server.store.connection import Redis
from server.store.cpr import CPR
from server.store.retention import (
    Cancellation,
    save_cancellation,
    set_pilot_ended,
    withdraw_cancellation,
)

T = TypeVar("T")
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


async def cancel_clinic(redis: Redis, ydernummer: str, day: str, actor: str) -> Cancellation:
    """Record that the clinic cancels from `day`: its data goes after the notice period."""
    clinic = await find_clinic(redis, ydernummer)
    if clinic is None:
        raise LookupError(f"no clinic with ydernummer {ydernummer}")
    notice_ends = date.fromisoformat(day) + timedelta(seconds=CANCELLATION_NOTICE_SECONDS)
    cancellation = Cancellation(
        clinic.id,
        day,
        day_start(notice_ends.isoformat()),
        "cancelled",
        now(),
        actor,
    )
    await save_cancellation(redis, cancellation)
    await audit(redis, "clinic.cancelled", actor, clinic_id=clinic.id, cancelled_on=day)
    return cancellation


def retention_command(args: argparse.Namespace, with_redis: WithRedis[int]) -> int:
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


async def export_for(
    redis: Redis, cpr_key: CprKey, *, cpr: str = "", consultation: str = ""
) -> dict[str, Any]:
    """By CPR (matched through its keyed hash) or by consultation id."""
    if cpr:
        if not CPR.match(cpr):
            raise ValueError("not a CPR number (DDMMYY-SSSS)")
        ids = await consultations_for_cpr_hash(redis, cpr_key.hash(cpr))
    else:
        ids = [consultation]
    return await subject_export(redis, ids)


def subject_command(args: argparse.Namespace, with_redis: WithRedis[int]) -> int:
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
