"""Signalling relay side by side with the PeerJS server, in the same run, driven by the same
Python clients (bench/relaypeers.py, in worker processes so each server has its own core).

    python bench/signalling_relay.py            # 100, 500 and 1,000 pairs
    python bench/signalling_relay.py --quick    # 50 pairs, a few seconds a phase, as CI runs it
    python bench/signalling_relay.py --pairs 200 --realistic-seconds 30

Each pair is two participants of one call: for almenvideo a GP who admitted a booked patient
(their sockets then exchange `signal` messages, as the pages do); for PeerJS (npm `peer`,
installed into bench/peerjs/ by `scripts/setup --test`) two peer ids exchanging
OFFER/ANSWER/CANDIDATE with `dst`. The bodies are offer (~4 KB), answer (~3 KB) and
candidate (~200 B) sized, an offer and its answer then eight candidates. Cases, for every N:
PeerJS; almenvideo with both peers on one instance; almenvideo with the patient on one
instance and the GP on another, so every message goes through Redis.

Two phases each:
- realistic: each pair sends 5 messages a second, taking turns, whether or not the last one
  arrived (open loop, as browsers trickle candidates);
- fast: ping-pong, the next message as soon as the last arrived, each socket at most 40 a
  second. almenvideo refuses a socket's messages beyond 50 a second (burst 200,
  server/signalling/session.py): 40 stays below, so the limit does not shape the figures,
  and any `rate_limited` reply is counted. PeerJS has no such limit.

Reported per server and phase: relay latency p50/p99 (send to arrival at the other peer,
from a timestamp in the body), messages delivered / lost (not arrived within the loss
timeout) / errored (an `error` reply naming the message, by code, whatever the code), and
messages delivered per server CPU-second (utime+stime from /proc: the node process; for
almenvideo its instances and the redis-server), from the phase's start until the servers
are quiet again; then almenvideo's ratios to PeerJS. Every case starts fresh servers, and
servers that lost messages in a phase, or were still busy a minute after it, are started
afresh (their pairs connected anew) before the next, so no phase inherits a queue.

An `error` reply that names no message (no `ref`) is counted by its code, and the message
it was about, unknown, ends as lost.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import cpu_seconds, percentile
from bench.relayservers import AlmenvideoTarget, PeerJSTarget
from bench.relayworker import AlmenvideoPair, PeerJSPair, Phase, worker

REALISTIC_RATE = 5.0  # messages a second per pair
FAST_PER_SOCKET = 40.0  # below almenvideo's 50 a second per socket
QUIET_SHARE = 0.2  # of a core: the servers have worked off a phase


class Target(Protocol):
    def start(self, pairs: int) -> tuple[list[AlmenvideoPair] | list[PeerJSPair], list[int]]:
        """Fresh servers, and the pairs booked on them; the pids whose CPU counts."""
        ...

    def stop(self) -> None: ...


def wait_quiet(pids: list[int], longest: float) -> float | None:
    """Seconds until the servers spent less than QUIET_SHARE of a core for half a second;
    None if they were still busy after `longest`."""
    started = time.monotonic()
    while time.monotonic() < started + longest:
        before = cpu_seconds(*pids)
        time.sleep(0.5)
        if cpu_seconds(*pids) - before < QUIET_SHARE * 0.5:
            return round(time.monotonic() - started, 1)
    return None


class Clients:
    """The pairs, connected from worker processes, which run each phase on command."""

    def __init__(self, specs: list[AlmenvideoPair] | list[PeerJSPair], workers: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.results = ctx.Queue()
        workers = max(1, min(workers, len(specs)))
        self.commands = [ctx.Queue() for _ in range(workers)]
        self.procs = [
            ctx.Process(target=worker, args=(specs[i::workers], self.commands[i], self.results))
            for i in range(workers)
        ]
        for proc in self.procs:
            proc.start()
        for _ in self.procs:
            kind, *detail = self.results.get(timeout=900)
            if kind != "ready":
                self.stop()
                raise RuntimeError(f"a worker could not connect its pairs: {detail}")

    def run(self, phase: Phase) -> list[Any]:
        for queue in self.commands:
            queue.put(phase)
        timeout = phase.seconds + 3 * phase.lost_after + 120
        return [self.results.get(timeout=timeout) for _ in self.procs]

    def stop(self) -> None:
        for queue in self.commands:
            queue.put(None)
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


def drive(
    label: dict[str, Any], target: Target, pairs: int, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Both phases on `pairs` pairs. A phase starts only on quiet servers with nothing
    queued: when they are still busy `quiet_seconds` after a phase, or the phase lost
    messages (a server can sit idle with a queue, waiting for Redis connections), the next
    phase gets fresh servers and pairs, so that it measures itself and not what the last
    one left."""
    phases = [
        ("realistic", "paced", args.realistic_seconds, REALISTIC_RATE),
        ("fast", "ping_pong", args.fast_seconds, FAST_PER_SOCKET),
    ]
    rows = []
    clients: Clients | None = None
    pids: list[int] = []
    try:
        for index, (name, mode, seconds, rate) in enumerate(phases):
            if clients is None:
                started = time.time()
                specs, pids = target.start(pairs)
                cpu_before = cpu_seconds(*pids)
                clients = Clients(specs, args.workers)
                setup_cpu = cpu_seconds(*pids) - cpu_before
                print(
                    f"  {label['case']}: servers up, {pairs} pairs connected in "
                    f"{time.time() - started:.1f} s, {setup_cpu:.2f} server CPU-s to connect",
                    flush=True,
                )
                wait_quiet(pids, args.quiet_seconds)
            phase = Phase(mode, index * 10**7, time.time() + 0.5, seconds, rate, args.lost_after)
            cpu_before = cpu_seconds(*pids)
            done = clients.run(phase)
            quiet_after = wait_quiet(pids, args.quiet_seconds)
            server_cpu = cpu_seconds(*pids) - cpu_before
            rows.append(summary({**label, "phase": name}, done, seconds, server_cpu))
            rows[-1]["quiet_after_s"] = quiet_after
            print_row(rows[-1])
            if quiet_after is None or rows[-1]["lost"]:
                # Busy, or idle while messages are missing (waiting on Redis connections):
                # either way a queue the next phase must not inherit.
                print(
                    "    the servers lost messages or were still busy: fresh servers and "
                    "pairs for what follows",
                    flush=True,
                )
                clients.stop()
                clients = None
                target.stop()
    finally:
        if clients is not None:
            clients.stop()
        target.stop()
    return rows


def summary(
    label: dict[str, Any], done: list[Any], seconds: float, server_cpu: float
) -> dict[str, Any]:
    latencies: list[float] = []
    sent = lost = 0
    errors: Counter[str] = Counter()
    errored = 0
    client_cpu = 0.0
    for _, tally, cpu in done:
        latencies += tally.latencies_ms
        sent += tally.sent
        lost += tally.lost
        errored += sum(tally.errored.values())
        errors += tally.errored + tally.unmatched_errors
        client_cpu += cpu
    p50, p99 = (
        (percentile(latencies, 0.5), percentile(latencies, 0.99)) if latencies else (None, None)
    )
    return {
        **label,
        "seconds": seconds,
        "sent": sent,
        "delivered": len(latencies),
        "lost": lost,
        "errored": errored,
        "errors": dict(errors),
        "delivered_per_s": round(len(latencies) / seconds),
        "p50_ms": None if p50 is None else round(p50, 2),
        "p99_ms": None if p99 is None else round(p99, 2),
        "server_cpu_s": round(server_cpu, 2),
        "per_server_cpu_s": round(len(latencies) / server_cpu) if server_cpu else None,
        "client_cpu_s": round(client_cpu, 2),
    }


def print_row(row: dict[str, Any]) -> None:
    errors = ", ".join(f"{code} {n}" for code, n in sorted(row["errors"].items())) or "none"
    print(
        f"    {row['case']:<16} {row['pairs']:>5} pairs {row['phase']:<9} "
        f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms; sent {row['sent']}, "
        f"delivered {row['delivered']} ({row['delivered_per_s']}/s), lost {row['lost']}, "
        f"errored {row['errored']} (errors: {errors}); "
        f"{row['per_server_cpu_s']} messages per server CPU-s (clients {row['client_cpu_s']} "
        f"CPU-s; quiet after {row['quiet_after_s']} s)",
        flush=True,
    )


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """almenvideo over PeerJS, for the same pairs and phase: latency above 1 is slower,
    messages per CPU-second below 1 is dearer."""
    peer = {(r["pairs"], r["phase"]): r for r in rows if r["server"] == "peerjs"}
    out = []
    for row in rows:
        base = peer.get((row["pairs"], row["phase"]))
        if row["server"] != "almenvideo" or base is None:
            continue
        ratio: dict[str, Any] = {
            "instances": row["instances"], "pairs": row["pairs"], "phase": row["phase"],
        }  # fmt: skip
        for key in ("p50_ms", "p99_ms", "per_server_cpu_s"):
            ours, theirs = row[key], base[key]
            ratio[key] = float(f"{ours / theirs:.3g}") if ours and theirs else None
        out.append(ratio)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # the servers, started from here, hold thousands of sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    directory = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    rows: list[dict[str, Any]] = []
    for pairs in args.pairs:
        label = {"server": "peerjs", "instances": 1, "pairs": pairs, "case": "PeerJS"}
        rows += drive(label, PeerJSTarget(directory), pairs, args)
        for instances in (1, 2):
            label = {
                "server": "almenvideo", "instances": instances, "pairs": pairs,
                "case": f"almenvideo x{instances}",
            }  # fmt: skip
            rows += drive(label, AlmenvideoTarget(directory, instances), pairs, args)
    return {
        "benchmark": "signalling_relay",
        "realistic_rate_per_pair": REALISTIC_RATE,
        "fast_per_socket_cap": FAST_PER_SOCKET,
        "lost_after_s": args.lost_after,
        "results": [{k: v for k, v in r.items() if k != "case"} for r in rows],
        "ratios": ratios(rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="50 pairs, short phases (CI)")
    parser.add_argument("--pairs", default="100,500,1000", help="comma-separated")
    parser.add_argument("--realistic-seconds", type=float, default=20)
    parser.add_argument("--fast-seconds", type=float, default=10)
    parser.add_argument("--lost-after", type=float, default=10, help="seconds")
    parser.add_argument(
        "--quiet-seconds", type=float, default=60, help="the longest wait for quiet servers"
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.workers = "50", 1
        args.realistic_seconds, args.fast_seconds, args.lost_after = 2, 1.5, 2
        args.quiet_seconds = 5
    args.pairs = [int(n) for n in str(args.pairs).split(",")]
    print(
        f"Realistic: {REALISTIC_RATE:g} messages/s per pair, taking turns, open loop. Fast: "
        f"ping-pong, at most {FAST_PER_SOCKET:g}/s per socket, below almenvideo's per-socket "
        "limit (50/s, burst 200), which therefore does not shape it; PeerJS has none.",
        flush=True,
    )
    started = time.time()
    result = run(args)
    for ratio in result["ratios"]:
        print(
            f"  almenvideo x{ratio['instances']} / PeerJS, {ratio['pairs']} pairs, "
            f"{ratio['phase']}: p50 {ratio['p50_ms']}x, p99 {ratio['p99_ms']}x, "
            f"messages per server CPU-s {ratio['per_server_cpu_s']}x"
        )
    print(f"  took {time.time() - started:.0f} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
