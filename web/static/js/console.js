// The GP's console: the live waiting room (mine / everyone's / unassigned), arrival alerts,
// acting on one patient at a time (admit, message, transfer, remove), the call (hold, end,
// end as a phone consultation) and the billing code that applies.

import { ArrivalAlerts } from "./alerts.js";
import { CallStage } from "./call.js";
import { CallPanel } from "./callpanel.js";
import { openMedia } from "./devices.js";
import { HostWindow } from "./embed.js";
import { inviteForm, inviteLink } from "./invite.js";
import { NoteTaker } from "./notetaker.js";
import { Signalling } from "./signalling.js";
import { recall, remember } from "./storage.js";
import { t } from "./strings.js";
import { mark } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("console-data").textContent);
const lang = document.documentElement.lang;
const clock = new Intl.DateTimeFormat(lang === "da" ? "da-DK" : "en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Copenhagen",
});
const colleagues = new Map(data.colleagues.map((c) => [c.id, c.display_name]));
const PRESETS = ["console.preset_late", "console.preset_call", "console.preset_soon"];

const state = {
  waiting: new Map(), // consultation id -> queue entry
  lobby: new Map(), // participant id -> invited professional waiting to be let in
  inviteLinks: new Map(), // consultation id -> the invitation link just made
  today: new Map(), // consultation id -> day entry
  clockSkew: 0,
  stream: null,
  consultationId: null,
  activeCall: null,
  view: recall("almenvideo.view") || "all",
  offline: false, // the socket is down: nothing the GP does would reach the server
};

const alerts = new ArrivalAlerts({
  sound: $("alert-sound"),
  desktop: $("alert-desktop"),
  title: $("alert-title"),
});

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

// During a call the lobby (who waits to come in) moves into the call's panel.
function showView(view) {
  $("lists").hidden = view !== "lists";
  $("ended").hidden = view !== "ended";
  if (view === "call") $("call-lobby-slot").append($("lobby"));
  else $("console").insertBefore($("lobby"), $("lists"));
  if (view !== "call") stage.close();
}

// ---- the waiting list ----------------------------------------------------------------------

function minutesWaited(entry) {
  const now = Date.now() / 1000 - state.clockSkew;
  return Math.max(0, Math.floor((now - entry.waiting_since) / 60));
}

function when(entry) {
  return entry.scheduled_start
    ? t("console.scheduled", { time: clock.format(new Date(entry.scheduled_start * 1000)) })
    : t("console.dropin");
}

function inView(entry) {
  if (data.focus) return entry.consultation_id === data.focus;
  if (state.view === "mine") return entry.practitioner_id === data.me;
  if (state.view === "unassigned") return !entry.practitioner_id;
  return true;
}

function button(label, testid, onClick, kind = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `button ${kind}`.trim();
  element.textContent = label;
  element.setAttribute("data-testid", testid);
  element.addEventListener("click", onClick);
  return element;
}

function card(entry) {
  const item = document.createElement("li");
  item.className = "queue-entry";
  item.dataset.consultation = entry.consultation_id;
  item.dataset.connected = String(entry.connected);
  const waited = minutesWaited(entry);
  item.dataset.late = String(waited >= data.wait_alert_minutes);

  const name = document.createElement("strong");
  name.textContent = entry.patient_name;
  const details = document.createElement("span");
  details.className = "details";
  const owner = entry.practitioner_id
    ? t("console.assigned_to", { name: colleagues.get(entry.practitioner_id) ?? "?" })
    : t("console.unassigned");
  details.textContent = [when(entry), t("console.waited", { minutes: waited }), owner].join(" · ");
  const badges = document.createElement("span");
  badges.className = "badges";
  const verdict = document.createElement("span");
  verdict.className = "badge verdict";
  verdict.dataset.verdict = entry.precall_verdict || "none";
  verdict.setAttribute("data-testid", "verdict");
  verdict.textContent = t(`console.verdict_${entry.precall_verdict || "none"}`);
  badges.append(verdict);
  if (!entry.connected) {
    const offline = document.createElement("span");
    offline.className = "badge offline";
    offline.textContent = t("console.offline");
    badges.append(offline);
  }

  const admit = button(t("console.admit"), "admit", () => admitPatient(entry.consultation_id), "primary");
  admit.dataset.consultation = entry.consultation_id;
  admit.disabled = Boolean(state.consultationId) || state.offline;
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(
    admit,
    button(t("console.message"), "message", () => toggleTool(item, "message")),
    button(t("console.transfer"), "transfer", () => toggleTool(item, "transfer")),
    button(t("console.remove"), "remove", () => toggleTool(item, "remove")),
  );
  item.append(name, details, badges);
  if (entry.last_message) item.append(sentMessage(entry.last_message));
  item.append(actions, messageTool(entry), transferTool(entry), removeTool(entry));
  return item;
}

// The trace a sent message leaves on the card, so every GP sees what the patient was told.
function sentMessage({ text, at }) {
  const sent = document.createElement("p");
  sent.className = "sent-message";
  sent.setAttribute("data-testid", "last-message");
  sent.textContent = t("console.message_sent_at", { time: clock.format(at * 1000), text });
  return sent;
}

function toggleTool(item, name) {
  for (const tool of item.querySelectorAll(".tool")) {
    tool.hidden = tool.dataset.tool !== name || !tool.hidden;
  }
  item.querySelector(`.tool[data-tool="${name}"]:not([hidden]) select, .tool[data-tool="${name}"]:not([hidden]) input`)?.focus();
}

function tool(name, label, fields, submitLabel, onSubmit) {
  const form = document.createElement("form");
  form.className = "tool";
  form.dataset.tool = name;
  form.hidden = true;
  form.setAttribute("aria-label", label);
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "button primary";
  submit.textContent = submitLabel;
  submit.setAttribute("data-testid", `${name}-send`);
  form.append(...fields, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit();
    form.hidden = true;
  });
  return form;
}

function messageTool(entry) {
  const presets = document.createElement("select");
  presets.setAttribute("aria-label", t("console.message"));
  presets.setAttribute("data-testid", "message-preset");
  presets.append(new Option("—", ""), ...PRESETS.map((key) => new Option(t(key), t(key))));
  const text = document.createElement("input");
  text.maxLength = 500;
  text.placeholder = t("console.message_placeholder");
  text.setAttribute("aria-label", t("console.message_placeholder"));
  text.setAttribute("data-testid", "message-text");
  return tool("message", t("console.message"), [presets, text], t("call.chat_send"), () => {
    const message = text.value.trim() || presets.value;
    if (message) send({ type: "message", consultation_id: entry.consultation_id, text: message });
  });
}

function transferTool(entry) {
  const to = document.createElement("select");
  to.setAttribute("aria-label", t("console.transfer_to"));
  to.setAttribute("data-testid", "transfer-to");
  to.append(...data.colleagues.filter((c) => c.id !== entry.practitioner_id).map((c) => new Option(c.display_name, c.id)));
  return tool("transfer", t("console.transfer_to"), [to], t("console.transfer"), () => {
    if (to.value) send({ type: "transfer", consultation_id: entry.consultation_id, to_user: to.value });
  });
}

function removeTool(entry) {
  const text = document.createElement("input");
  text.maxLength = 500;
  text.value = t("console.remove_default");
  text.setAttribute("aria-label", t("console.remove"));
  text.setAttribute("data-testid", "remove-text");
  return tool("remove", t("console.remove"), [text], t("console.remove"), () => {
    send({ type: "remove", consultation_id: entry.consultation_id, text: text.value.trim() });
  });
}

function renderWaiting() {
  const open = document.activeElement?.closest?.(".tool:not([hidden])");
  if (open) return; // do not pull the form from under the GP's fingers; the next tick renders
  const entries = [...state.waiting.values()].sort(
    (a, b) => (a.scheduled_start ?? a.waiting_since) - (b.scheduled_start ?? b.waiting_since),
  );
  const shown = entries.filter(inView);
  $("waiting-list").replaceChildren(...shown.map(card));
  $("nobody-waiting").hidden = shown.length > 0;
  $("waiting-count").textContent = String(shown.length);
  alerts.count(state.waiting.size);
}

// Invited professionals waiting to be let in; during a call also this consultation's own
// patient, if waiting (e.g. the GP talked with the home-care nurse first).
function renderLobby() {
  const items = [...state.lobby.values()]
    .filter((entry) => !data.focus || entry.consultation_id === data.focus)
    .sort((a, b) => a.since - b.since)
    .map((entry) => {
      const item = document.createElement("li");
      item.className = "queue-entry";
      item.dataset.participant = entry.participant_id;
      const name = document.createElement("strong");
      name.textContent = entry.display_name;
      const details = document.createElement("span");
      details.className = "details";
      details.textContent = [
        [entry.title, entry.organisation].filter(Boolean).join(", "),
        t("console.lobby_for", { name: entry.patient_name || "–", when: when(entry) }),
      ].join(" · ");
      const actions = document.createElement("div");
      actions.className = "actions";
      const admit = button(t("console.admit"), "admit-professional", () => admitProfessional(entry), "primary");
      admit.disabled =
        state.offline || (Boolean(state.consultationId) && state.consultationId !== entry.consultation_id);
      actions.append(
        admit,
        button(t("console.decline"), "decline-professional", () =>
          send({ type: "remove.participant", consultation_id: entry.consultation_id, participant_id: entry.participant_id }),
        ),
      );
      item.append(name, details, actions);
      return item;
    });
  const own = state.consultationId && state.waiting.get(state.consultationId);
  if (own) {
    const item = document.createElement("li");
    item.className = "queue-entry";
    const name = document.createElement("strong");
    name.textContent = t("console.patient_waiting", { name: own.patient_name });
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(button(t("console.admit"), "admit-own-patient", () => admitPatient(own.consultation_id), "primary"));
    item.append(name, actions);
    items.push(item);
  }
  $("lobby-list").replaceChildren(...items);
  $("lobby").hidden = items.length === 0;
}

async function admitProfessional(entry) {
  await localStream();
  send({ type: "admit", consultation_id: entry.consultation_id, participant_id: entry.participant_id });
}

// ---- inviting a municipality's professional --------------------------------------------------

function inviteTool(entry) {
  const form = inviteForm({
    consultationId: entry.consultation_id,
    organisations: data.organisations,
    onInvited: (url) => {
      form.hidden = true;
      state.inviteLinks.set(entry.consultation_id, url);
      renderToday();
    },
    onError: (message) => alertText(t("console.error", { message })),
  });
  return form;
}

function renderToday() {
  const today = [...state.today.values()].sort(
    (a, b) => (a.scheduled_start ?? 0) - (b.scheduled_start ?? 0),
  );
  const items = today.map((entry) => {
    const item = document.createElement("li");
    item.dataset.status = entry.status;
    item.dataset.consultation = entry.consultation_id;
    const code = entry.billing_code ? ` · ${entry.billing_code}` : "";
    const line = document.createElement("span");
    line.textContent = `${when(entry)} · ${entry.patient_name || "–"} · ${t(`console.status.${entry.status}`)}${code}`;
    item.append(line);
    if (data.organisations.length && !["ended", "cancelled"].includes(entry.status)) {
      const form = inviteTool(entry);
      form.hidden = true;
      item.append(" ", button(t("console.invite"), "invite", () => { form.hidden = !form.hidden; }), form);
    }
    const url = state.inviteLinks.get(entry.consultation_id);
    if (url) item.append(inviteLink(url, `invite-link-${entry.consultation_id}`));
    if (data.notetaker && entry.status === "ended") {
      const note = document.createElement("a");
      note.href = `/console/consultations/${entry.consultation_id}/note`;
      note.textContent = t("notetaker.note_link");
      note.setAttribute("data-testid", "note-link");
      item.append(" · ", note);
    }
    return item;
  });
  const open = document.activeElement?.closest?.("#today-list .tool:not([hidden])");
  if (open) return; // the GP is filling in an invitation
  $("today-list").replaceChildren(...items);
  $("none-today").hidden = today.length > 0;
}

for (const radio of document.querySelectorAll('input[name="view"]')) {
  radio.checked = radio.value === state.view;
  radio.addEventListener("change", () => {
    state.view = radio.value;
    remember("almenvideo.view", state.view);
    renderWaiting();
  });
}

// ---- acting ----------------------------------------------------------------------------------

function send(message) {
  alertText("");
  signalling.send(message);
}

async function admitPatient(consultationId) {
  await localStream();
  send({ type: "admit", consultation_id: consultationId });
  mark("admit-sent");
}

function hangUp() {
  if (state.consultationId) send({ type: "end", consultation_id: state.consultationId });
}

// Inside an LPS's page (GET /embed/{token}): events for the host window, and its end-call.
const host = data.embed
  ? HostWindow.connect(data.embed, {
      onEndCall: async () => {
        await stage.reportFinal();
        hangUp();
      },
    })
  : null;
const signalling = new Signalling(() => ({}));
const stage = new CallStage({
  signalling,
  getLocalStream: localStream,
  onHangup: hangUp,
  onAudioChange: () => notetaker?.audioChanged(),
  onPeersChange: () => panel?.render(),
});
const panel = new CallPanel({
  stage,
  organisations: data.organisations,
  colleagues: data.colleagues,
  me: data.me,
  onRemove: (peer) =>
    send({ type: "remove.participant", consultation_id: state.consultationId, participant_id: peer.participant_id }),
  onTransfer: (colleague) => holdPatient(colleague),
  onError: (message) => alertText(t("console.error", { message })),
});
// Only for clinics in the note-taker pilot (the server says which engine it offers).
const notetaker = data.notetaker ? new NoteTaker({ role: "gp", signalling, stage, onDraft: draftReady }) : null;

function draftReady(consultationId) {
  $("open-draft").href = `/console/consultations/${consultationId}/note`;
  $("draft-link").hidden = false;
  host?.noteReady("draft");
}
// A hold sends the patient back to the queue; a transfer is a hold into a colleague's list
// (the server takes one socket's messages in order, so the patient waits when it arrives).
// With an invited professional still in the call the GP stays with them (the server says so
// with peer.left); alone, back to the list. The call's last reports go first.
async function holdPatient(toColleague = "") {
  const consultationId = state.consultationId;
  await stage.reportFinal();
  send({ type: "hold", consultation_id: consultationId });
  if (toColleague) send({ type: "transfer", consultation_id: consultationId, to_user: toColleague });
  if (stage.hasPeerOtherThan("patient")) return;
  state.consultationId = null;
  notetaker?.show(null); // nothing listens while the patient waits; re-admitting resumes it
  showView("lists");
  renderWaiting();
  renderLobby();
}
$("hold").addEventListener("click", () => holdPatient());
$("end-by-phone").addEventListener("click", async () => {
  await stage.reportFinal();
  send({ type: "end", consultation_id: state.consultationId, continued_by_phone: true });
});

function setOffline(offline) {
  state.offline = offline;
  $("console-offline").hidden = !offline;
  for (const admit of document.querySelectorAll('[data-testid="admit"]')) {
    admit.disabled = offline || Boolean(state.consultationId);
  }
  renderWaiting();
  renderLobby();
}

signalling
  .on("session_ended", () => location.reload()) // logged out elsewhere: the page asks to log in
  .on("reconnecting", () => setOffline(true))
  .on("open", () => setOffline(false))
  .on("welcome", ({ active_call }) => {
    state.activeCall = active_call ?? null;
    $("rejoin-bar").hidden = !state.activeCall || Boolean(state.consultationId);
    if (state.activeCall && state.consultationId === state.activeCall) {
      signalling.send({ type: "rejoin", consultation_id: state.activeCall });
    }
  })
  .on("clinic.state", (message) => {
    state.clockSkew = Date.now() / 1000 - message.server_time;
    state.waiting = new Map(message.waiting.map((entry) => [entry.consultation_id, entry]));
    state.lobby = new Map(message.lobby.map((entry) => [entry.participant_id, entry]));
    renderLobby();
    state.today = new Map(message.today.map((entry) => [entry.consultation_id, entry]));
    renderWaiting();
    renderToday();
    host?.ready();
    host?.queue(state.waiting);
  })
  .on("queue.entry", ({ entry }) => {
    const before = state.waiting.get(entry.consultation_id);
    const arrived = !before;
    if (before && entry.last_message && entry.last_message.at !== before.last_message?.at) {
      $("arrival-live").textContent = t("console.message_sent", { name: entry.patient_name });
    }
    state.waiting.set(entry.consultation_id, entry);
    renderWaiting();
    renderLobby();
    host?.queue(state.waiting);
    if (arrived && inView(entry)) {
      const text = t("console.arrived", { name: entry.patient_name });
      $("arrival-live").textContent = text;
      alerts.arrived(text);
    }
  })
  .on("queue.removed", ({ consultation_id, reason }) => {
    state.waiting.delete(consultation_id);
    host?.left(consultation_id, reason);
    renderWaiting();
    renderLobby();
  })
  .on("lobby.entry", ({ entry }) => {
    const arrived = !state.lobby.has(entry.participant_id);
    state.lobby.set(entry.participant_id, entry);
    renderLobby();
    if (arrived && state.consultationId) stage.togglePanel(true); // the lobby is in the panel
    if (arrived) {
      const text = t("console.arrived", { name: entry.display_name });
      $("arrival-live").textContent = text;
      alerts.arrived(text);
    }
  })
  .on("lobby.removed", ({ participant_id }) => {
    state.lobby.delete(participant_id);
    renderLobby();
  })
  .on("day.entry", ({ entry }) => {
    // As the server's clinic.state (on_todays_list): a drop-in visit that left is gone.
    if (entry.kind === "drop_in" && entry.status === "booked") state.today.delete(entry.consultation_id);
    else state.today.set(entry.consultation_id, entry);
    renderToday();
  })
  .on("call.joined", async (message) => {
    state.consultationId = message.consultation_id;
    $("rejoin-bar").hidden = true;
    showView("call");
    host?.callStarted(message.consultation_id);
    $("draft-link").hidden = true;
    notetaker?.show(message.consultation_id);
    await stage.join(message);
    panel.show(message.consultation_id);
    renderWaiting();
    renderLobby();
  })
  .on("peer.joined", ({ peer }) => stage.addPeer(peer))
  .on("peer.left", (message) => stage.peerLeft(message))
  .on("signal", (message) => stage.signal(message))
  .on("media.state", (message) => stage.peerMediaState(message))
  .on("chat", (message) => stage.chat(message))
  .on("notetaker.state", (message) => notetaker?.update(message))
  .on("notetaker.transcript", (message) => notetaker?.transcript(message))
  .on("call.ended", ({ consultation_id, billing_code }) => {
    state.consultationId = null;
    notetaker?.ended();
    host?.callEnded(consultation_id, billing_code);
    showView("ended");
    $("billing-code").textContent = t(`console.billing_${billing_code || "none"}`);
    $("billing-code").dataset.code = billing_code || "none";
    renderWaiting();
    renderLobby();
  })
  .on("error", ({ code, message }) => alertText(t("console.error", { message: `${message} (${code})` })));

$("rejoin").addEventListener("click", async () => {
  await localStream();
  state.consultationId = state.activeCall;
  signalling.send({ type: "rejoin", consultation_id: state.activeCall });
});
$("back-to-list").addEventListener("click", () => {
  notetaker?.show(null);
  showView("lists");
});
setInterval(renderWaiting, 15000);
signalling.connect();
