// The AI note-taker on every screen of a consultation. Everyone sees, all the time, whether
// it is listening, and can stop it (a stop deletes what it captured). The patient answers
// the consent text on their own screen. The GP offers it, follows the live transcript, and
// their page sends the call's audio to the server's tap: a second peer connection with one
// track per speaker (own microphone "gp", the patient's audio "patient", a professional's
// "staff"), named by the transceivers' mids.

import { gathered } from "./ice.js";
import { t } from "./strings.js";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["offered", "consented", "listening", "drafting"]);
const OFFERABLE = new Set(["off", "declined", "withdrawn", "failed"]);
const AFTER_THE_CALL = new Set(["drafting", "drafted", "failed"]); // what an ended call still shows

// What the engine is, from its facts, in the page's language.
function engineFacts({ clinical_use, engine_languages = [] }) {
  const facts = clinical_use ? [] : [t("notetaker.demo_only")];
  const names = engine_languages.map((code) => t(`language.${code}`));
  if (names.length) facts.push(t("notetaker.understands", { languages: names.join(", ") }));
  return facts.join(" ");
}

export class NoteTaker {
  constructor({ role, signalling, stage = null, onDraft = null }) {
    this.role = role; // patient | gp | staff
    this.signalling = signalling;
    this.stage = stage;
    this.onDraft = onDraft;
    this.state = "off";
    this.consultationId = null;
    this.live = false; // GP: the consultation on screen has a call running
    this.consentVersion = null;
    this.tap = null;
    this.tapKey = "";
    this.bar = $("notetaker");
    $("notetaker-stop").addEventListener("click", () => this.signalling.send({ type: "notetaker.stop" }));
    $("notetaker-accept")?.addEventListener("click", () => this.answer("given"));
    $("notetaker-decline")?.addEventListener("click", () => this.answer("declined"));
    // Escape on the consent question is a "no", never a question left open.
    $("notetaker-consent")?.addEventListener("cancel", (event) => {
      event.preventDefault();
      this.answer("declined");
    });
    $("notetaker-offer")?.addEventListener("click", () =>
      this.signalling.send({ type: "notetaker.offer", consultation_id: this.consultationId }),
    );
  }

  // GP: the consultation whose call is on screen, or none (back to the lists, or a hold).
  show(consultationId) {
    if (consultationId !== this.consultationId) {
      this.state = "off";
      $("notetaker-transcript")?.replaceChildren();
    }
    this.consultationId = consultationId;
    this.live = Boolean(consultationId);
    if (!consultationId) this.stopTap();
    this.render();
  }

  // GP: the call on screen ended. Only a draft in the making (or its failure) still shows;
  // nothing is offered for a call that is over.
  ended() {
    this.live = false;
    this.stopTap();
    this.render();
  }

  // The screen left the consultation (the call ended, or the patient left): nothing shows.
  reset() {
    this.stopTap();
    this.state = "off";
    this.render();
  }

  update(message) {
    if (this.role === "gp" && message.consultation_id !== this.consultationId) return; // not on screen
    this.consultationId = message.consultation_id;
    this.state = message.state;
    this.consentVersion = message.consent_version;
    const consent = $("notetaker-consent-text");
    if (consent) consent.textContent = message.consent_text[document.documentElement.lang] ?? message.consent_text.da;
    const engine = $("notetaker-engine");
    if (engine) engine.textContent = engineFacts(message);
    if (this.role === "gp") {
      if (this.state === "consented" || this.state === "listening") this.startTap();
      else this.stopTap();
      if (this.state === "drafted") this.onDraft?.(this.consultationId);
    }
    this.render(message.reason);
  }

  answer(answer) {
    this.signalling.send({
      type: "notetaker.consent",
      answer,
      text_version: this.consentVersion,
      language: document.documentElement.lang === "en" ? "en" : "da",
    });
  }

  render(reason = "") {
    const over = this.role === "gp" && !this.live;
    const active = ACTIVE.has(this.state) && (!over || AFTER_THE_CALL.has(this.state));
    this.bar.hidden = over
      ? !AFTER_THE_CALL.has(this.state)
      : !active && !["withdrawn", "failed", "declined"].includes(this.state);
    this.bar.dataset.state = this.state;
    $("notetaker-text").textContent = t(`notetaker.state_${this.state}_${this.role === "gp" ? "gp" : "other"}`, {
      reason,
    });
    $("notetaker-stop").hidden = !active;
    const dialog = $("notetaker-consent"); // the patient's question: modal, first on screen
    if (dialog) {
      const asking = this.state === "offered";
      if (asking && !dialog.open) dialog.showModal();
      if (!asking && dialog.open) dialog.close();
    }
    const panel = $("notetaker-panel");
    if (panel) {
      panel.hidden = !this.consultationId || (over && !AFTER_THE_CALL.has(this.state));
      $("notetaker-offer").hidden = over || !OFFERABLE.has(this.state);
    }
  }

  transcript({ speaker, text, final, segment_id }) {
    const list = $("notetaker-transcript");
    if (!list) return;
    let line = list.querySelector(`li[data-partial="${speaker}"]`);
    if (!line) {
      line = document.createElement("li");
      line.dataset.speaker = speaker;
      list.append(line);
    }
    line.dataset.partial = final ? "" : speaker;
    if (final) line.dataset.segment = segment_id;
    const who = document.createElement("strong");
    who.textContent = `${t(`notetaker.speaker.${speaker.split("-")[0]}`)}: `;
    line.replaceChildren(who, document.createTextNode(text));
    line.classList.toggle("partial", !final);
    if (final && !text) line.remove();
    list.scrollTop = list.scrollHeight;
  }

  // GP: the set of audio tracks changed (someone joined or left): send the new set.
  audioChanged() {
    if (this.tap && this.sourcesKey() !== this.tapKey) {
      this.stopTap();
      this.startTap();
    }
  }

  sourcesKey() {
    return this.stage.audioSources().map((source) => source.track.id).join(",");
  }

  async startTap() {
    if (this.tap || !this.stage || !this.consultationId) return;
    const sources = this.stage.audioSources();
    if (!sources.some((source) => source.role === "patient")) return; // again when it arrives
    const pc = new RTCPeerConnection({ iceServers: this.stage.iceServers });
    this.tap = pc;
    this.tapKey = this.sourcesKey();
    let staff = 0;
    const named = sources.map(({ role, track }) => {
      const speaker = role === "self" ? "gp" : role === "patient" ? "patient" : staff++ ? `staff-${staff}` : "staff";
      return [pc.addTransceiver(track, { direction: "sendonly" }), speaker];
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (this.tap !== pc) return;
      const speakers = Object.fromEntries(named.map(([transceiver, speaker]) => [transceiver.mid, speaker]));
      const response = await fetch(`/console/consultations/${this.consultationId}/notetaker/tap`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer", speakers }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(`${body.detail} (${body.code})`);
      if (this.tap === pc) await pc.setRemoteDescription(body);
    } catch (error) {
      console.warn("note-taker tap failed", error);
      if (this.tap === pc) this.stopTap();
      $("notetaker-text").textContent = t("notetaker.tap_failed", { reason: error.message });
    }
  }

  stopTap() {
    this.tap?.close();
    this.tap = null;
    this.tapKey = "";
  }
}
