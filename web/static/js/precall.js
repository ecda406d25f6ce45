// The patient's line test: the server's echo peer sends the patient's own media back, and
// what comes back tells what a call will get. The browser measures, the server judges and
// keeps the verdict for the GP.
//
// Decisions:
// - Non-trickle: the offer goes to the server once ICE gathering is complete, so one POST
//   sets up the echo without a signalling socket.
// - The same STUN and TURN servers (and fresh TURN credentials) as the call, on both ends:
//   behind a UDP-blocked firewall the call works through TURN, so the test must too.
// - A missing camera or microphone is replaced by a drawn picture or a quiet tone, so the
//   line itself is still measured; the verdict then says the device is missing.
// - Round trip: the selected candidate pair's currentRoundTripTime (median of the samples),
//   else the RTCP-based roundTripTime. Loss: the echoed streams' packetsLost against
//   packetsReceived, which counts both directions.
// - Achievable bitrate: after the media, a data channel sends up to PROBE_BYTES as fast as
//   SCTP's congestion control lets it, and what came back per second is the figure (both
//   directions, since a call needs both). The media's own estimate cannot say this in a few
//   seconds: against the echo peer's REMB, Chromium's availableOutgoingBitrate starts at
//   300 kbit/s and climbs by a few per cent a second, whatever the line. The higher of the
//   two counts; what the media actually sent is the last resort.
// - "Connected" means echoed packets arrived, not merely that ICE succeeded.

import { gathered } from "./ice.js";
import { t } from "./strings.js";

const MEASURE_SECONDS = 4;
const PROBE_SECONDS = 2;
const PROBE_BYTES = 512 * 1024; // enough to tell a video-capable line (≥ 500 kbit/s) from one that is not
const PROBE_CHUNK = 16 * 1024; // message size every browser's SCTP handles
const SAMPLE_MS = 500;
const CONNECT_TIMEOUT_MS = 10000;
const TONE_SECONDS = 1.2;

class LineTestError extends Error {
  constructor(code, retryAfter = 0) {
    super(code);
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// One line test over `stream` (may be null). Returns
// { figures, micLevel, framesDecoded, verdict, advice }.
export async function runLineTest({ token, stream, onProgress = () => {}, echoVideo = null }) {
  const sending = sendableStream(stream);
  const mic = peakMeter(sending.stream);
  let measured;
  let pc = null;
  try {
    onProgress({ phase: "connecting" });
    const { ice_servers: iceServers } = await post(`/j/${token}/ice-servers`, {});
    pc = new RTCPeerConnection({ iceServers });
    for (const track of sending.stream.getTracks()) pc.addTrack(track, sending.stream);
    const probe = pc.createDataChannel("line-test");
    probe.binaryType = "arraybuffer";
    const echoed = new MediaStream();
    pc.addEventListener("track", ({ track }) => echoed.addTrack(track));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await post(`/j/${token}/echo`, { sdp: pc.localDescription.sdp, type: "offer" });
    await pc.setRemoteDescription(answer);
    if (echoVideo) echoVideo.srcObject = echoed;
    const samples = (await connected(pc)) ? await sample(pc, onProgress) : [];
    const probedKbps = samples.length ? await throughput(probe, onProgress) : null;
    measured = summarise(samples, probedKbps);
  } finally {
    pc?.close();
    mic.stop();
    sending.stopFillers();
    if (echoVideo) echoVideo.srcObject = null;
  }
  const figures = {
    connected: measured.connected,
    camera_ok: sending.cameraOk,
    mic_ok: sending.micOk && mic.peak() > 0,
    rtt_ms: measured.rttMs,
    loss_pct: measured.lossPct,
    bitrate_kbps: measured.bitrateKbps,
  };
  const { verdict, advice } = await post(`/j/${token}/precall`, figures);
  return {
    figures,
    micLevel: Math.min(100, Math.round(mic.peak() * 100)),
    framesDecoded: measured.framesDecoded,
    verdict,
    advice,
  };
}

// A short tone through the chosen speaker, made here with WebAudio.
export async function playTone(sinkId = "") {
  const context = new AudioContext();
  if (sinkId && context.setSinkId) await context.setSinkId(sinkId).catch(() => {});
  await context.resume();
  const start = context.currentTime;
  const gain = context.createGain();
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.3, start + 0.05);
  gain.gain.setValueAtTime(0.3, start + TONE_SECONDS - 0.15);
  gain.gain.linearRampToValueAtTime(0, start + TONE_SECONDS);
  gain.connect(context.destination);
  const ended = [];
  for (const [frequency, offset] of [[660, 0], [880, TONE_SECONDS / 2]]) {
    const oscillator = context.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start(start + offset);
    oscillator.stop(start + (offset ? TONE_SECONDS : TONE_SECONDS / 2));
    ended.push(new Promise((resolve) => oscillator.addEventListener("ended", resolve)));
  }
  await Promise.all(ended);
  await context.close();
}

// Wires the line test section of the patient's page.
export function mountLineTest(root, { token, getStream, getSinkId = () => "" }) {
  if (!root) return;
  const $ = (id) => root.querySelector(`#${id}`);
  const start = $("precall-start");
  const tone = $("precall-tone");
  const progress = $("precall-progress");
  const echoVideo = $("precall-echo");

  start.addEventListener("click", async () => {
    start.disabled = true;
    $("precall-results").hidden = false;
    $("precall-verdict").hidden = true;
    echoVideo.parentElement.hidden = false;
    for (const id of ["precall-camera", "precall-mic", "precall-rtt", "precall-loss", "precall-bitrate"]) {
      showFigure($(id), "", null);
    }
    try {
      const result = await runLineTest({
        token,
        stream: getStream(),
        echoVideo,
        onProgress: ({ phase, secondsLeft }) => {
          progress.textContent =
            phase === "measuring" ? t("precall.measuring", { seconds: secondsLeft }) : t("precall.connecting");
        },
      });
      progress.textContent = "";
      echoVideo.parentElement.hidden = true;
      echoVideo.dataset.framesDecoded = String(result.framesDecoded);
      showResult($, result);
    } catch (error) {
      if (error.code?.startsWith("link_")) return location.reload(); // the page explains the link
      echoVideo.parentElement.hidden = true;
      progress.textContent =
        error.code === "echo_busy" ? t("precall.busy", { seconds: error.retryAfter }) : t("precall.failed");
    } finally {
      start.disabled = false;
      start.textContent = t("precall.again");
    }
  });

  tone.addEventListener("click", async () => {
    tone.disabled = true;
    try {
      await playTone(getSinkId());
    } finally {
      tone.disabled = false;
    }
  });
}

function showResult($, { figures, micLevel, verdict, advice }) {
  const number = (digits) =>
    new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: digits });
  const unknown = t("precall.unknown");
  const kbps = figures.bitrate_kbps;
  showFigure($("precall-camera"), figures.camera_ok ? t("precall.works") : t("precall.not_working"), null);
  showFigure(
    $("precall-mic"),
    figures.mic_ok ? t("precall.mic_level", { level: micLevel }) : t("precall.no_sound"),
    micLevel,
  );
  showFigure($("precall-rtt"), figures.rtt_ms == null ? unknown : `${number(0).format(figures.rtt_ms)} ms`, figures.rtt_ms);
  showFigure($("precall-loss"), figures.loss_pct == null ? unknown : `${number(1).format(figures.loss_pct)} %`, figures.loss_pct);
  showFigure(
    $("precall-bitrate"),
    kbps == null ? unknown : kbps >= 1000 ? `${number(1).format(kbps / 1000)} Mbit/s` : `${number(0).format(kbps)} kbit/s`,
    kbps,
  );
  const box = $("precall-verdict");
  box.dataset.verdict = verdict;
  $("precall-verdict-title").textContent = t(`precall.verdict_${verdict}`);
  $("precall-advice").replaceChildren(
    ...advice.map((key) => Object.assign(document.createElement("li"), { textContent: t(key) })),
  );
  box.hidden = false;
}

// The figure as text, and as a plain number in data-value (empty when unknown).
function showFigure(element, text, value) {
  element.textContent = text;
  element.dataset.value = value == null ? "" : String(value);
}

// ---- media to send ---------------------------------------------------------------------------

function sendableStream(stream) {
  const live = (track) => Boolean(track) && track.readyState === "live" && track.enabled && !track.muted;
  const video = stream?.getVideoTracks()[0];
  const audio = stream?.getAudioTracks()[0];
  const fillers = [];
  const tracks = [];
  if (live(video)) tracks.push(video);
  else fillers.push(drawnVideo());
  if (live(audio)) tracks.push(audio);
  else fillers.push(quietTone());
  return {
    stream: new MediaStream([...tracks, ...fillers.map((filler) => filler.track)]),
    cameraOk: live(video),
    micOk: live(audio),
    stopFillers: () => fillers.forEach((filler) => filler.stop()),
  };
}

function drawnVideo() {
  const canvas = Object.assign(document.createElement("canvas"), { width: 320, height: 240 });
  const context = canvas.getContext("2d");
  let x = 0;
  const timer = setInterval(() => {
    context.fillStyle = "#1d5c96";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = "#ffffff";
    context.fillRect((x = (x + 8) % canvas.width), 0, 40, canvas.height);
  }, 66);
  const track = canvas.captureStream(15).getVideoTracks()[0];
  return { track, stop: () => (clearInterval(timer), track.stop()) };
}

function quietTone() {
  const context = new AudioContext();
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  gain.gain.value = 0.05;
  const destination = context.createMediaStreamDestination();
  oscillator.connect(gain).connect(destination);
  oscillator.start();
  const track = destination.stream.getAudioTracks()[0];
  return { track, stop: () => (track.stop(), context.close()) };
}

// The loudest sample (0..1) heard from the stream's audio until stop().
function peakMeter(stream) {
  const context = new AudioContext();
  context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let peak = 0;
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    for (const value of samples) peak = Math.max(peak, Math.abs(value));
  }, 50);
  return {
    peak: () => peak,
    stop: () => (clearInterval(timer), context.close()),
  };
}

// ---- connection ------------------------------------------------------------------------------

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({}));
  if (!response.ok) throw new LineTestError(reply.code ?? "failed", reply.retry_after ?? 0);
  return reply;
}

function connected(pc) {
  return new Promise((resolve) => {
    const check = () => {
      if (pc.connectionState === "connected") resolve(true);
      if (pc.connectionState === "failed" || pc.connectionState === "closed") resolve(false);
    };
    pc.addEventListener("connectionstatechange", check);
    setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS);
    check();
  });
}

async function sample(pc, onProgress) {
  const samples = [];
  const end = performance.now() + MEASURE_SECONDS * 1000;
  while (performance.now() < end) {
    const secondsLeft = Math.ceil((end - performance.now()) / 1000) + PROBE_SECONDS;
    onProgress({ phase: "measuring", secondsLeft });
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    samples.push(readStats(await pc.getStats()));
  }
  return samples;
}

function readStats(report) {
  const all = [...report.values()];
  const transport = all.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  const pair = transport
    ? report.get(transport.selectedCandidatePairId)
    : all.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
  const remoteRtt = all.find((s) => s.type === "remote-inbound-rtp" && s.roundTripTime != null);
  const inbound = all.filter((s) => s.type === "inbound-rtp");
  const outbound = all.filter((s) => s.type === "outbound-rtp");
  const sum = (stats, field) => stats.reduce((total, s) => total + (s[field] ?? 0), 0);
  const rtt = pair?.currentRoundTripTime ?? remoteRtt?.roundTripTime;
  return {
    at: performance.now(),
    rttMs: rtt == null ? null : rtt * 1000,
    availableKbps: pair?.availableOutgoingBitrate == null ? null : pair.availableOutgoingBitrate / 1000,
    lost: Math.max(0, sum(inbound, "packetsLost")),
    received: sum(inbound, "packetsReceived"),
    framesDecoded: sum(inbound, "framesDecoded"),
    bytesSent: sum(outbound, "bytesSent"),
  };
}

// Kbit/s that went to the echo and back over the data channel, or null if none did.
async function throughput(channel, onProgress) {
  const start = performance.now();
  const deadline = start + PROBE_SECONDS * 1000;
  const sleep = () => new Promise((resolve) => setTimeout(resolve, 10));
  while (channel.readyState === "connecting" && performance.now() < deadline) await sleep();
  let received = 0;
  channel.addEventListener("message", ({ data }) => (received += data.byteLength ?? data.length));
  const chunk = new Uint8Array(PROBE_CHUNK);
  let sent = 0;
  onProgress({ phase: "measuring", secondsLeft: PROBE_SECONDS });
  try {
    while (sent < PROBE_BYTES && performance.now() < deadline) {
      if (channel.bufferedAmount > 16 * PROBE_CHUNK) await sleep();
      else {
        channel.send(chunk);
        sent += chunk.length;
      }
    }
  } catch {
    // the channel closed or never opened: count what came back
  }
  while (received < sent && performance.now() < deadline) await sleep();
  return received ? (received * 8) / (performance.now() - start) : null;
}

function summarise(samples, probedKbps) {
  const last = samples.at(-1);
  if (!last || last.received === 0) {
    return { connected: false, rttMs: null, lossPct: null, bitrateKbps: null, framesDecoded: 0 };
  }
  const rtts = samples.map((s) => s.rttMs).filter((v) => v != null).sort((a, b) => a - b);
  const estimates = [probedKbps, ...samples.map((s) => s.availableKbps)].filter((v) => v != null);
  const first = samples[0];
  const sentKbps = last.at > first.at ? ((last.bytesSent - first.bytesSent) * 8) / (last.at - first.at) : null;
  return {
    connected: true,
    rttMs: rtts.length ? rtts[Math.floor(rtts.length / 2)] : null,
    lossPct: (100 * last.lost) / (last.lost + last.received),
    bitrateKbps: estimates.length ? Math.max(...estimates) : sentKbps,
    framesDecoded: last.framesDecoded,
  };
}
