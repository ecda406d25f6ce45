"""Chromium inside a lab namespace, driven by the one Playwright driver of the test.

Playwright starts the browser through a two-line script that enters the namespace, so each
side of a call browses from its own home network. Pages record their peer connections so a
test can ask `getStats()` which candidate pair carries the call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Playwright

from tests.network.namespaces import Namespace
from tests.support.browser import CHROMIUM_ARGS, chromium_path

RECORD_PEERS_JS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__labPeers = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__labPeers.push(this); }
  };
})();
"""

# The candidate pair the connected call's transport selected: local and remote candidate
# type (host, srflx, prflx, relay), the transport, how the relay is reached (udp, tcp, tls),
# and the pair's last measured round trip.
SELECTED_PAIR_JS = """
async () => {
  for (const pc of [...(window.__labPeers || [])].reverse()) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) {
        pair = stats.get(r.selectedCandidatePairId);
      }
    });
    if (!pair) continue;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return {
      local: local.candidateType, protocol: local.protocol,
      relayProtocol: local.relayProtocol || null,
      remote: remote.candidateType, remoteAddress: remote.address,
      rttMs: pair.currentRoundTripTime === undefined ? null : pair.currentRoundTripTime * 1000,
    };
  }
  return null;
}
"""


# What each recorded peer connection had reached, for a call that never got media: its
# states, how many candidates each side had, and the selected pair's state, if any.
PEER_STATES_JS = """
async () => {
  const peers = [];
  for (const pc of window.__labPeers || []) {
    const stats = await pc.getStats();
    const count = { local: 0, remote: 0, pairs: 0, succeeded: 0 };
    stats.forEach((r) => {
      if (r.type === "local-candidate") count.local += 1;
      if (r.type === "remote-candidate") count.remote += 1;
      if (r.type === "candidate-pair") {
        count.pairs += 1;
        if (r.state === "succeeded") count.succeeded += 1;
      }
    });
    peers.push({
      signaling: pc.signalingState, ice: pc.iceConnectionState,
      gathering: pc.iceGatheringState, connection: pc.connectionState, ...count,
    });
  }
  return peers;
}
"""


async def launch_in(
    playwright: Playwright, ns: Namespace, directory: Path, *extra_args: str
) -> Browser:
    wrapper = directory / f"chromium-{ns.name}"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {ns.name} {chromium_path()} "$@"\n')
    wrapper.chmod(0o755)
    return await playwright.chromium.launch(
        executable_path=str(wrapper), args=[*CHROMIUM_ARGS, *extra_args]
    )


async def peer_states(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate(PEER_STATES_JS))


async def selected_pair(page: Page) -> dict[str, Any] | None:
    found = await page.evaluate(SELECTED_PAIR_JS)
    return None if found is None else dict(found)
