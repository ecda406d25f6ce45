// The GP's console: the live waiting room, today's list, admitting, the call, the billing code.

import { CallStage } from "./call.js";
import { openMedia } from "./devices.js";
import { Signalling } from "./signalling.js";
import { t } from "./strings.js";

const $ = (id) => document.getElementById(id);
const lang = document.documentElement.lang;
const clock = new Intl.DateTimeFormat(lang === "da" ? "da-DK" : "en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Copenhagen",
});
const baseTitle = document.title;

const state = { clinic: null, clockSkew: 0, stream: null, consultationId: null, activeCall: null };

async function localStream() {
  if (!state.stream) {
    try {
      state.stream = await openMedia();
    } catch (error) {
      alertText(t(`media.${error.kind}_title`));
      state.stream = new MediaStream();
    }
  }
  return state.stream;
}

function alertText(text) {
  $("console-alert").textContent = text;
  $("console-alert").hidden = !text;
}

function showView(view) {
  $("lists").hidden = view !== "lists";
  $("ended").hidden = view !== "ended";
  if (view !== "call") stage.close();
}

// ---- lists ------------------------------------------------------------------------------------

function minutesWaited(entry) {
  const now = Date.now() / 1000 - state.clockSkew;
  return Math.max(0, Math.floor((now - entry.waiting_since) / 60));
}

function when(entry) {
  return entry.scheduled_start
    ? t("console.scheduled", { time: clock.format(new Date(entry.scheduled_start * 1000)) })
    : t("console.dropin");
}

function renderWaiting() {
  const waiting = state.clinic?.waiting ?? [];
  const items = waiting.map((entry) => {
    const item = document.createElement("li");
    item.className = "queue-entry";
    item.dataset.consultation = entry.consultation_id;
    item.dataset.connected = String(entry.connected);
    const name = document.createElement("strong");
    name.textContent = entry.patient_name;
    const details = document.createElement("span");
    details.className = "details";
    details.textContent = [when(entry), t("console.waited", { minutes: minutesWaited(entry) })]
      .concat(entry.connected ? [] : [t("console.offline")])
      .join(" · ");
    const admit = document.createElement("button");
    admit.type = "button";
    admit.className = "button primary";
    admit.textContent = t("console.admit");
    admit.setAttribute("data-testid", "admit");
    admit.dataset.consultation = entry.consultation_id;
    admit.disabled = Boolean(state.consultationId);
    admit.addEventListener("click", () => admitPatient(entry.consultation_id));
    item.append(name, details, admit);
    return item;
  });
  $("waiting-list").replaceChildren(...items);
  $("nobody-waiting").hidden = waiting.length > 0;
  $("waiting-count").textContent = String(waiting.length);
  document.title = waiting.length ? `(${waiting.length}) ${baseTitle}` : baseTitle;
}

function renderToday() {
  const today = state.clinic?.today ?? [];
  const items = today.map((entry) => {
    const item = document.createElement("li");
    item.dataset.status = entry.status;
    const code = entry.billing_code ? ` · ${entry.billing_code}` : "";
    item.textContent = `${when(entry)} · ${entry.patient_name || "–"} · ${t(`console.status.${entry.status}`)}${code}`;
    return item;
  });
  $("today-list").replaceChildren(...items);
  $("none-today").hidden = today.length > 0;
}

// ---- call ----------------------------------------------------------------------------------

async function admitPatient(consultationId) {
  alertText("");
  await localStream();
  signalling.send({ type: "admit", consultation_id: consultationId });
}

const signalling = new Signalling(() => ({}));
const stage = new CallStage({
  signalling,
  getLocalStream: localStream,
  onHangup: () => signalling.send({ type: "end", consultation_id: state.consultationId }),
});

signalling
  .on("welcome", ({ active_call }) => {
    state.activeCall = active_call ?? null;
    $("rejoin-bar").hidden = !state.activeCall || Boolean(state.consultationId);
    if (state.activeCall && state.consultationId === state.activeCall) {
      signalling.send({ type: "rejoin", consultation_id: state.activeCall });
    }
  })
  .on("clinic.state", (message) => {
    state.clinic = message;
    state.clockSkew = Date.now() / 1000 - message.server_time;
    renderWaiting();
    renderToday();
  })
  .on("call.joined", async (message) => {
    state.consultationId = message.consultation_id;
    $("rejoin-bar").hidden = true;
    showView("call");
    await stage.join(message);
    renderWaiting();
  })
  .on("peer.joined", ({ peer }) => stage.addPeer(peer))
  .on("peer.left", (message) => stage.peerLeft(message))
  .on("signal", (message) => stage.signal(message))
  .on("media.state", (message) => stage.peerMediaState(message))
  .on("call.ended", ({ billing_code }) => {
    state.consultationId = null;
    showView("ended");
    $("billing-code").textContent = t(`console.billing_${billing_code}`);
    $("billing-code").dataset.code = billing_code;
    renderWaiting();
  })
  .on("error", ({ code, message }) => alertText(t("console.error", { message: `${message} (${code})` })));

$("rejoin").addEventListener("click", async () => {
  await localStream();
  state.consultationId = state.activeCall;
  signalling.send({ type: "rejoin", consultation_id: state.activeCall });
});
$("back-to-list").addEventListener("click", () => showView("lists"));
setInterval(renderWaiting, 15000);
signalling.connect();
