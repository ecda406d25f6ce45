// How this side's connection to one peer went, from getStats(), for the platform's
// success rate: sent at the first decoded remote frame, on an ICE failure before that,
// every minute, and once more when this side ends the call (`final()`, awaited before the
// hangup is sent, since the server takes no report from a seat that has left). Only enums and bounded numbers leave the
// browser (the server refuses anything else); the server times the first media itself.

const POLL_MS = 250; // the server times first media on arrival: poll often until then
const REPORT_EVERY_MS = 60_000;
const FINAL_PATIENCE_MS = 500; // a hangup never waits longer for getStats()
const CANDIDATE_TYPES = ["host", "srflx", "prflx", "relay"];
const TRANSPORTS = ["udp", "tcp", "tls"];

const bounded = (value, max) =>
  Number.isFinite(value) ? Math.min(max, Math.max(0, Math.round(value))) : null;
const oneOf = (value, allowed) => (allowed.includes(value) ? value : null);

function selectedPair(stats) {
  let pair = null;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId) {
      pair = stats.get(report.selectedCandidatePairId) ?? pair;
    }
  });
  if (pair) return pair;
  stats.forEach((report) => {
    if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") pair = report;
  });
  return pair;
}

// The ICE restarts so far: each restart gives the local description a new ufrag.
function ufrag(pc) {
  return /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? "")?.[1] ?? null;
}

// Why this side sends nothing: the camera or microphone refused by the user, or missing.
async function withoutLocalMedia() {
  for (const name of ["camera", "microphone"]) {
    const status = await navigator.permissions?.query({ name }).catch(() => null);
    if (status?.state === "denied") return "permission_denied";
  }
  return "no_local_media";
}

export function reportCall(pc, send) {
  const started = performance.now();
  const ufrags = new Set();
  let media = false;
  let failed = false;
  let last = null; // { at, inbound, outbound } bytes, for the bitrates
  let lastSent = 0;

  async function sample(phase) {
    const stats = await pc.getStats();
    const pair = selectedPair(stats);
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    let frames = 0;
    let audioPackets = 0;
    let videoSeen = false;
    let lost = 0;
    let received = 0;
    let inbound = 0;
    let outbound = 0;
    stats.forEach((report) => {
      if (report.type === "inbound-rtp") {
        if (report.kind === "video") {
          videoSeen = true;
          frames += report.framesDecoded ?? 0;
        } else {
          audioPackets += report.packetsReceived ?? 0;
        }
        lost += Math.max(0, report.packetsLost ?? 0);
        received += report.packetsReceived ?? 0;
        inbound += report.bytesReceived ?? 0;
      }
      if (report.type === "outbound-rtp") outbound += report.bytesSent ?? 0;
    });
    const now = performance.now();
    const kbps = (bytes, before) => (last ? ((bytes - before) * 8) / (now - last.at) : NaN);
    const report = {
      phase,
      media: frames > 0 || (!videoSeen && audioPackets > 0),
      local_candidate: oneOf(local?.candidateType, CANDIDATE_TYPES),
      remote_candidate: oneOf(remote?.candidateType, CANDIDATE_TYPES),
      transport: oneOf(local?.candidateType === "relay" ? local.relayProtocol : local?.protocol, TRANSPORTS),
      ice_restarts: Math.min(1000, Math.max(0, ufrags.size - 1)),
      media_ms: bounded(now - started, 3_600_000),
      rtt_ms: bounded((pair?.currentRoundTripTime ?? NaN) * 1000, 60_000),
      loss_per_mille: bounded(lost + received > 0 ? (lost * 1000) / (lost + received) : NaN, 1000),
      inbound_kbps: bounded(kbps(inbound, last?.inbound), 100_000),
      outbound_kbps: bounded(kbps(outbound, last?.outbound), 100_000),
    };
    if (!pc.getSenders().some((sender) => sender.track)) report.failure = await withoutLocalMedia();
    if (failed) report.failure = "ice_failed";
    last = { at: now, inbound, outbound };
    return report;
  }

  function emit(report) {
    lastSent = performance.now();
    send(Object.fromEntries(Object.entries(report).filter(([, value]) => value !== null)));
  }

  pc.addEventListener("iceconnectionstatechange", async () => {
    if (pc.iceConnectionState !== "failed" || media || failed) return;
    failed = true;
    emit(await sample("failed"));
  });

  const timer = setInterval(async () => {
    if (pc.signalingState === "closed") return clearInterval(timer);
    const current = ufrag(pc);
    if (current) ufrags.add(current);
    const due = media && performance.now() - lastSent >= REPORT_EVERY_MS;
    if (media && !due) return;
    const report = await sample(media ? "update" : "media").catch(() => null);
    if (!report || pc.signalingState === "closed") return;
    if (!media && report.media) media = true;
    if (report.media) emit(report);
  }, POLL_MS);

  return {
    async final() {
      if (!media || pc.signalingState === "closed") return;
      const late = new Promise((resolve) => setTimeout(resolve, FINAL_PATIENCE_MS, null));
      const report = await Promise.race([sample("final").catch(() => null), late]);
      if (report) emit(report);
    },
  };
}
