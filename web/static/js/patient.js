// The patient's page: name and terms, device check, waiting room, call, end.
// A reload or a second tab resumes the same seat with the resume token kept in localStorage.

import { CallStage } from "./call.js";
import { fillSelect, levelMeter, listDevices, openMedia } from "./devices.js";
import { NoteTaker } from "./notetaker.js";
import { mountLineTest } from "./precall.js";
import { Signalling } from "./signalling.js";
import { t } from "./strings.js";
import { WarmPeer } from "./warmpeer.js";

const root = document.getElementById("patient");
const termsVersion = root.dataset.termsVersion;
const $ = (id) => document.getElementById(id);
const steps = ["step-prejoin", "step-waiting", "call", "step-end"];

const state = {
  joinUrl: root.dataset.joinUrl,
  stream: null,
  stopMeter: () => {},
  choice: JSON.parse(localStorage.getItem("almenvideo.devices") || "{}"),
  signalling: null,
  stage: null,
  welcome: null,
  waiting: false, // in the queue (not before joining, in a call, or after)
  warm: null, // a WarmPeer while waiting
  warmTimer: null,
};

const clock = new Intl.DateTimeFormat(document.documentElement.lang === "da" ? "da-DK" : "en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Copenhagen",
});

const resumeKey = () => `almenvideo.resume:${location.pathname}`;
const linkToken = () => location.pathname.split("/")[2];

function show(step) {
  for (const id of steps) $(id).hidden = id !== step;
}

function showEnd(titleKey, textKey, canContinue = false) {
  state.stage?.close();
  state.notetaker?.reset();
  $("end-title").textContent = t(titleKey);
  $("end-text").textContent = t(textKey);
  $("continue-here").hidden = !canContinue;
  show("step-end");
}

// ---- devices -----------------------------------------------------------------------------

async function startMedia() {
  state.stopMeter();
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
  $("media-problem").hidden = true;
  try {
    state.stream = await openMedia(state.choice);
  } catch (error) {
    $("media-problem-title").textContent = t(`media.${error.kind}_title`);
    $("media-problem-text").textContent = t(`media.${error.kind}_text`);
    $("media-problem").hidden = false;
    return null;
  }
  $("preview").srcObject = state.stream;
  warmUp();
  state.stopMeter = levelMeter(state.stream, (level) => {
    $("mic-meter-bar").style.width = `${level}%`;
    $("mic-meter").setAttribute("aria-valuenow", String(level));
  });
  await showDevices();
  return state.stream;
}

async function showDevices() {
  const { cameras, mics, speakers } = await listDevices();
  const active = (kind) => state.stream?.[kind]()[0]?.getSettings().deviceId ?? "";
  fillSelect($("camera-select"), cameras, active("getVideoTracks"), t("patient.camera"));
  fillSelect($("mic-select"), mics, active("getAudioTracks"), t("patient.microphone"));
  const canChooseSpeaker = "setSinkId" in HTMLMediaElement.prototype && speakers.length > 0;
  $("speaker-field").hidden = !canChooseSpeaker;
  if (canChooseSpeaker) fillSelect($("speaker-select"), speakers, state.choice.speakerId, t("patient.speaker"));
}

function rememberChoice() {
  state.choice = {
    cameraId: $("camera-select").value,
    micId: $("mic-select").value,
    speakerId: $("speaker-select").value,
  };
  localStorage.setItem("almenvideo.devices", JSON.stringify(state.choice));
}

for (const id of ["camera-select", "mic-select"]) {
  $(id).addEventListener("change", () => {
    rememberChoice();
    startMedia();
  });
}
$("speaker-select").addEventListener("change", rememberChoice);
$("media-retry").addEventListener("click", () => startMedia());

// ---- joining ------------------------------------------------------------------------------

// A field's error sits under the field, is read with it (aria-describedby) and takes focus.
const fields = [
  { input: "patient-name", error: "name-error", hint: "name-hint", valid: (el) => el.value.trim() !== "" },
  { input: "accept-terms", error: "terms-error", hint: "", valid: (el) => el.checked },
];

function markField({ input, error, hint, valid }) {
  const ok = valid($(input));
  $(error).hidden = ok;
  $(input).setAttribute("aria-invalid", String(!ok));
  $(input).setAttribute("aria-describedby", [hint, ok ? "" : error].filter(Boolean).join(" "));
  return ok;
}

function checkFields() {
  const invalid = fields.filter((field) => !markField(field));
  if (invalid.length) $(invalid[0].input).focus();
  return invalid.length === 0;
}

// Cleared as the person types, not on change: a text field's change fires on blur, as the
// next control is pressed, and the error vanishing then pulls that control from under the
// pointer (the click after a typed name missed the terms box).
for (const field of fields) {
  $(field.input).addEventListener("input", () => {
    if ($(field.input).getAttribute("aria-invalid") === "true") markField(field);
  });
}

$("join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("join-problem").hidden = true;
  if (!checkFields()) return;
  const name = $("patient-name").value.trim();
  const response = await fetch(state.joinUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, accepted_terms: termsVersion }),
  });
  const body = await response.json();
  if (!response.ok) {
    // The page explains these: a link that does not work, a closed clinic, a drop-in limit.
    if (body.code?.startsWith("link_") || body.code?.startsWith("clinic_") || body.code === "dropin_limited")
      return location.reload();
    $("join-problem").textContent = body.detail;
    $("join-problem").hidden = false;
    return;
  }
  if (body.link) history.replaceState(null, "", body.link); // a drop-in visit has its own link now
  localStorage.setItem(resumeKey(), body.resume);
  connect();
});

// ---- waiting room and call -------------------------------------------------------------------

function connect() {
  show("step-waiting");
  $("queue-position").textContent = t("patient.connecting");
  const signalling = new Signalling(() => ({ link: linkToken(), resume: localStorage.getItem(resumeKey()) }));
  state.signalling = signalling;
  state.stage = new CallStage({
    signalling,
    getLocalStream: async () => state.stream ?? (await startMedia()),
    onHangup: () => signalling.send({ type: "leave" }),
    sinkId: state.choice.speakerId ?? "",
    takeWarmPeer,
  });
  state.notetaker = new NoteTaker({ role: "patient", signalling });
  signalling
    .on("reconnecting", () => { $("connection-lost").hidden = false; })
    .on("open", () => { $("connection-lost").hidden = true; })
    .on("welcome", (welcome) => {
      state.welcome = welcome;
      $("clinic-messages").replaceChildren();
      for (const note of welcome.messages ?? []) showClinicMessage(note);
      coolDown(); // a new socket may be on a new network: gather anew
      state.waiting = welcome.state === "waiting";
      if (state.waiting) {
        show("step-waiting");
        warmUp();
      }
    })
    .on("waiting", showPlace)
    .on("clinic.message", showClinicMessage)
    .on("held", () => {
      state.stage.close();
      state.notetaker.reset(); // no call, nothing to listen to; re-admitting says so again
      $("held-note").hidden = false;
      show("step-waiting");
      state.waiting = true;
      warmUp();
    })
    .on("removed", ({ text }) => {
      signalling.close();
      stopMedia();
      showEnd("patient.removed_title", "patient.removed_text");
      if (text) $("end-text").textContent = text;
    })
    .on("chat", (message) => state.stage.chat(message))
    .on("notetaker.state", (message) => state.notetaker.update(message))
    .on("call.joined", async (message) => {
      state.waiting = false;
      $("held-note").hidden = true;
      state.stopMeter();
      await state.stage.join(message);
      show("call");
    })
    .on("peer.joined", ({ peer }) => state.stage.addPeer(peer))
    .on("peer.left", (message) => state.stage.peerLeft(message))
    .on("signal", (message) => state.stage.signal(message))
    .on("media.state", (message) => state.stage.peerMediaState(message))
    .on("call.ended", () => {
      signalling.close();
      localStorage.removeItem(resumeKey());
      stopMedia();
      showEnd("patient.ended_title", "patient.ended_text");
    })
    .on("left", () => {
      signalling.close();
      stopMedia();
      showEnd("patient.left_title", "patient.left_text");
    })
    .on("superseded", () => {
      stopMedia();
      showEnd("patient.superseded_title", "patient.superseded_text", true);
    })
    .on("error", ({ code }) => {
      if (code === "resume_invalid") {
        signalling.close();
        localStorage.removeItem(resumeKey());
        show("step-prejoin");
      } else if (code.startsWith("link_") || code === "clinic_absent") {
        location.reload(); // the server's page explains what is wrong with the link
      }
    });
  signalling.connect();
}

// Before a booked patient's appointment the server sends the time instead of a place:
// drop-ins who arrive before it go first, so a place would only go backwards.
function showPlace({ position, eta_minutes, appointment_at }) {
  if (appointment_at) {
    $("queue-position").textContent = t("patient.position_appointment", { time: clock.format(appointment_at * 1000) });
    $("queue-eta").textContent = t("patient.eta_appointment");
  } else {
    $("queue-position").textContent =
      position === 1 ? t("patient.position_first") : t("patient.position", { position });
    $("queue-eta").textContent =
      eta_minutes > 0 ? t("patient.eta", { minutes: eta_minutes }) : t("patient.eta_soon");
  }
  checkWaitLimit();
}

function showClinicMessage({ text }) {
  const item = document.createElement("li");
  item.textContent = text;
  $("clinic-messages").append(item);
  $("clinic-messages-box").hidden = false;
}

// After the clinic's wait limit (counted from arrival, or from the appointment if later),
// offer the clinic's phone number instead of more waiting.
function checkWaitLimit() {
  const welcome = state.welcome;
  if (!welcome?.wait_limit_minutes || !welcome.clinic_phone || $("step-waiting").hidden) return;
  const since = Math.max(welcome.waiting_since ?? 0, welcome.scheduled_start ?? 0);
  if (Date.now() / 1000 - since < welcome.wait_limit_minutes * 60) return;
  $("clinic-phone").textContent = welcome.clinic_phone;
  $("clinic-phone").href = `tel:${welcome.clinic_phone.replace(/\s+/g, "")}`;
  $("wait-limit").hidden = false;
}
setInterval(checkWaitLimit, 10000);

// ---- a peer connection ready before admit (warmpeer.js) ---------------------------------------

// While waiting, keep one ready for the call with the current camera and microphone; it is
// made again when they change, when the socket reconnects, and before its TURN credentials
// (fetched fresh for it) run out.
async function warmUp() {
  clearTimeout(state.warmTimer);
  const stream = state.stream;
  if (!state.waiting || !stream) return;
  if (!state.warm?.fits(stream)) {
    coolDown();
    let iceServers;
    try {
      ({ ice_servers: iceServers } = await post(`/j/${linkToken()}/ice-servers`));
    } catch {
      return; // the call then makes its connection when it starts, as without this
    }
    if (stream !== state.stream || !state.waiting || state.warm) return;
    state.warm = new WarmPeer(iceServers, stream);
  }
  state.warmTimer = setTimeout(warmUp, state.warm.expiresAt - Date.now());
}

function coolDown() {
  clearTimeout(state.warmTimer);
  state.warm?.close();
  state.warm = null;
}

// The call starts: its first peer connection is the warm one, if it was made for `stream`.
function takeWarmPeer(stream) {
  const warm = state.warm;
  state.warm = null;
  clearTimeout(state.warmTimer);
  if (warm?.fits(stream)) return warm;
  warm?.close();
  return null;
}

async function post(url) {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function stopMedia() {
  state.waiting = false;
  coolDown();
  state.stopMeter();
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
}

$("leave-waiting").addEventListener("click", () => state.signalling?.send({ type: "leave" }));
$("continue-here").addEventListener("click", () => location.reload());

// ---- start ----------------------------------------------------------------------------------

show("step-prejoin");
if (localStorage.getItem(resumeKey())) {
  startMedia().then(connect);
} else {
  startMedia();
}

// ---- line test ------------------------------------------------------------------------------

mountLineTest($("precall"), {
  token: location.pathname.split("/")[2],
  getStream: () => state.stream,
  getSinkId: () => $("speaker-select").value,
});
