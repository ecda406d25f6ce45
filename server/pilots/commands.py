"""The economy's commands: `almenvideo invoices issue --quarter 2026Q1 | --year 2026` (so
issuing can be scheduled) and `almenvideo capacities import FILE [--preview]`.

The commands import their work when they run: `serve` builds the same parser, and does not
wait for these imports (server/cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings
    from server.store.connection import Redis

    WithRedis = Callable[[argparse.Namespace, Callable[[Redis, Settings], Awaitable[Any]]], Any]


def add_economy_parsers(
    commands: argparse._SubParsersAction,
    add_common: Callable[[argparse.ArgumentParser], None],
    with_redis: WithRedis,
) -> None:
    def _issue_invoices(args: argparse.Namespace) -> int:
        """Freeze the PLSP invoices of a quarter or a year (and correct earlier ones), so it
        can be scheduled; run again, it issues nothing twice."""
        from server.accounts import CLI
        from server.pilots.issuing import Period
        from server.pilots.money import plain
        from server.store.invoices import issue

        try:
            period = Period.parse(args.quarter or args.year)
        except ValueError:
            print("almenvideo: --quarter is e.g. 2026Q1, --year e.g. 2026", file=sys.stderr)
            return 1
        made = with_redis(args, lambda redis, settings: issue(redis, CLI, period))
        if made is None:
            print(f"{period.label}: already issued, and nothing to correct")
            return 0
        quarters = ", ".join(made.quarters) or "-"
        print(f"Issue {made.number} ({period.label}): new quarters {quarters}")
        for invoice in made.invoices:
            total = plain(invoice.total_ore)
            print(f"  {invoice.number}  {invoice.vendor_name}  {total} kr excl. VAT")
        print(f"  {len(made.warnings)} clinic(s) not invoiced (see the subscriptions page)")
        return 0

    def _import_capacities(args: argparse.Namespace) -> int:
        """Load GP capacities from a register extract and print what each row did."""
        from server.accounts import CLI
        from server.store.subscriptions import import_capacities

        text = Path(args.file).read_text(encoding="utf-8-sig")
        report = with_redis(
            args,
            lambda redis, settings: import_capacities(redis, CLI, text, apply=not args.preview),
        )
        for row in report:
            since = row.since.isoformat() if row.since else "-"
            change = f"{row.previous if row.previous is not None else '-'} -> {row.count}"
            print(f"line {row.line:>5}  {row.ydernummer:<8} {since:<10}  {change:<10} {row.status}")
        changed = sum(1 for row in report if row.status == "changed")
        print(f"{changed} change(s) {'would be ' if args.preview else ''}recorded")
        return 0

    invoices = commands.add_parser("invoices", help="PLSP subscription invoices")
    invoice_commands = invoices.add_subparsers(dest="action", required=True)
    issuing = invoice_commands.add_parser(
        "issue", help="issue a quarter's or a year's invoices, with corrections to earlier ones"
    )
    add_common(issuing)
    which = issuing.add_mutually_exclusive_group(required=True)
    which.add_argument("--quarter", help="e.g. 2026Q1")
    which.add_argument("--year", help="e.g. 2026: its four quarters at once")
    issuing.set_defaults(run=_issue_invoices)
    capacities = commands.add_parser("capacities", help="PLSP GP capacities")
    capacity_commands = capacities.add_subparsers(dest="action", required=True)
    loading = capacity_commands.add_parser(
        "import", help="load a CSV extract: ydernummer, count, valid from; prints a report"
    )
    add_common(loading)
    loading.add_argument("file")
    loading.add_argument("--preview", action="store_true", help="record nothing")
    loading.set_defaults(run=_import_capacities)
