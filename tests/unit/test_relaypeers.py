"""The relay benchmark's clients: their messages are ones the server accepts, and every
message sent ends as exactly one of delivered, errored or lost."""

from __future__ import annotations

import json
import time

from bench.relaypeers import Pair, body, kind_of, stamp
from server.signalling import messages as m


def test_bodies_are_signals_the_server_accepts_and_carry_their_stamp() -> None:
    for seq in range(10):
        frame = {"v": 1, "type": "signal", "to": "peer-1", "ref": str(seq), **body(seq)}
        raw = json.dumps(frame)
        parsed = m.parse_client_message(raw)
        assert isinstance(parsed, m.Signal)
        assert (parsed.description is None) != (parsed.candidate is None)
        relayed = m.dump(m.RelayedSignal(from_="peer-0", description=parsed.description,
                                         candidate=parsed.candidate))  # fmt: skip
        seq_back, sent_ns = stamp(json.dumps(relayed))
        assert seq_back == seq
        assert 0 <= time.time_ns() - sent_ns < 10**9


def test_sizes_are_those_of_offers_answers_and_candidates() -> None:
    sizes = {kind_of(seq): len(json.dumps(body(seq))) for seq in range(10)}
    assert 3_500 < sizes["offer"] < 5_000
    assert 2_500 < sizes["answer"] < 3_500
    assert 150 < sizes["candidate"] < 400


def test_every_message_ends_once() -> None:
    pair = Pair()
    pair.new_phase(lost_after=5)
    now = time.time_ns()
    pair.outstanding = {1: now, 2: now, 3: now, 4: now, 5: now}
    pair.tally.sent = 5
    pair.arrived(1, now)
    pair.arrived(1, now)  # a duplicate counts once
    pair.arrived(2, now - 6 * 10**9)  # later than lost_after: lost
    pair.refused("overloaded", 3)
    pair.refused("internal", None)  # names no message
    pair.refused("internal", 99)  # names none in flight
    tally = pair.finish()
    assert len(tally.latencies_ms) == 1
    assert dict(tally.errored) == {"overloaded": 1}
    assert dict(tally.unmatched_errors) == {"internal": 2}
    assert tally.lost == 3  # 2 arrived late; 4 and 5 never did
    assert len(tally.latencies_ms) + sum(tally.errored.values()) + tally.lost == tally.sent
