// The call stage: a tile per remote participant (its picture, or the person's initials when
// their camera is off; a muted icon; a connection-quality badge), the own picture, the
// control bar, and the drawers (a chat that lives only as long as the call; the GP's panel).
// Used by the patient, GP and professional pages; one PeerLink per remote participant.

import { reportCall } from "./callreport.js";
import { PeerLink } from "./peer.js";
import { SelfView } from "./selfview.js";
import { t } from "./strings.js";
import { mark, markFirstFrame } from "./timeline.js";
import { WarmPeer } from "./warmpeer.js";

const $ = (id) => document.getElementById(id);
const QUALITY_SECONDS = 2;
// Media down this long while ICE restarts have not helped: the socket carrying them may be
// dead too, so it is replaced (the server then rebuilds the call).
const SOCKET_SUSPECT_MS = 10000;
const BACK_NOTICE_MS = 5000;
// Below this estimate of what can be sent, video would starve the sound: camera video at
// its lowest useful quality needs about 100 kbit/s on top of Opus speech (~30-40 kbit/s).
// When it stays below for AUDIO_ONLY_SAMPLES quality samples (6 s), the call turns audio only.
const AUDIO_ONLY_BELOW_BPS = 100_000;
const AUDIO_ONLY_SAMPLES = 3;
// Narrower than this, one drawer at a time (the chat or the GP's panel); wider, the panel
// starts open beside the stage.
const WIDE = "(min-width: 1100px)";
// Signals that arrive before their sender's peer.joined are kept this long, this many.
const EARLY_KEPT_MS = 5000;
const EARLY_KEPT_AT_MOST = 64;
// The longest a GP alone in a call waits for the first answer before the call is shown.
const REVEAL_MS = 300;

export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = words[0][0];
  const last = words.length > 1 ? words[words.length - 1][0] : "";
  return (first + last).toUpperCase();
}

export class CallStage {
  constructor({
    signalling,
    getLocalStream,
    onHangup,
    onAudioChange = null,
    onPeersChange = null,
    sinkId = "",
    takeWarmPeer = null,
  }) {
    this.signalling = signalling;
    this.getLocalStream = getLocalStream;
    this.takeWarmPeer = takeWarmPeer; // (stream) => a WarmPeer made for it, or null (patient)
    this.onHangup = onHangup;
    this.onAudioChange = onAudioChange; // the set of remote audio tracks changed (note-taker)
    this.onPeersChange = onPeersChange; // who is in the call, or their media state, changed
    this.sinkId = sinkId;
    this.section = $("call");
    this.grid = $("remote-grid");
    this.selfView = new SelfView({
      section: this.section,
      figure: $("self-view"),
      video: $("call-self"),
      moveButton: $("self-move"),
      hideButton: $("self-hide"),
      showButton: $("self-show"),
    });
    this.banner = $("call-banner");
    this.micButton = $("toggle-mic");
    this.cameraButton = $("toggle-camera");
    this.shareButton = $("toggle-share");
    this.links = new Map();
    // Signals from a peer this page has not yet heard join: a relayed signal can overtake
    // the peer.joined the server sent before it (the two travel different ways).
    this.early = new Map();
    this.spare = null; // a WarmPeer for the next peer to join (warmpeer.js)
    this.reporters = new Map();
    this.peers = new Map();
    this.peerMedia = new Map(); // participant id -> { audio, video } as they last said
    this.selfId = null;
    this.iceServers = [];
    this.localStream = null;
    this.screenTrack = null;
    this.audioOn = true;
    this.videoOn = true;
    this.qualityTimer = null;
    this.audioOnly = null; // "bandwidth" | "chosen": nobody sends video (mirrored by all)
    this.lowSamples = 0;
    this.audioOnlyButton = $("toggle-audio-only");
    this.notice = $("call-notice");
    this.audioOnlyButton?.addEventListener("click", () =>
      this.setAudioOnly(this.audioOnly ? null : "chosen"),
    );
    this.socketDown = false;
    this.recovering = false; // shown "reconnecting" since the call was last whole

    signalling.on("reconnecting", () => {
      this.socketDown = true;
      this.updateBanner();
    });
    signalling.on("open", () => {
      this.socketDown = false;
      this.updateBanner();
    });

    this.micButton.addEventListener("click", () => this.setAudio(!this.audioOn));
    this.cameraButton.addEventListener("click", () => this.setVideo(!this.videoOn));
    this.shareButton?.addEventListener("click", () => this.toggleShare());
    if (this.shareButton && !navigator.mediaDevices?.getDisplayMedia) this.shareButton.hidden = true; // phones
    this.endDialog = $("end-dialog"); // GP: ending the consultation is confirmed first
    const hangUp = async () => {
      await this.reportFinal(); // before the seat is gone: the server takes no report after
      this.onHangup();
    };
    $("hangup").addEventListener("click", () => {
      if (this.endDialog) this.endDialog.showModal();
      else hangUp();
    });
    $("confirm-end")?.addEventListener("click", () => {
      this.endDialog.close();
      hangUp();
    });
    $("cancel-end")?.addEventListener("click", () => this.endDialog.close());
    $("end-by-phone")?.addEventListener("click", () => this.endDialog.close());
    $("toggle-chat").addEventListener("click", () => this.toggleChat($("chat").hidden, true));
    $("chat-close").addEventListener("click", () => {
      this.toggleChat(false);
      $("toggle-chat").focus();
    });
    $("toggle-panel")?.addEventListener("click", () => this.togglePanel($("call-panel").hidden));
    $("panel-close")?.addEventListener("click", () => {
      this.togglePanel(false);
      $("toggle-panel").focus();
    });
    $("chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat();
    });
    this.fit = () => this.fitViewport();
  }

  // The call takes the visual viewport: with an on-screen keyboard up it shrinks to what is
  // left, so the bar and the chat's input stay in view (iOS does not resize the layout).
  fitViewport() {
    const viewport = window.visualViewport;
    if (!viewport) return;
    this.section.style.setProperty("--call-height", `${viewport.height}px`);
    this.section.style.setProperty("--call-top", `${viewport.offsetTop}px`);
  }

  async join({ consultation_id, participant_id, peers, ice_servers }) {
    mark("joined");
    this.close();
    if (consultation_id !== this.consultationId) this.audioOnly = null; // a new call has video
    this.consultationId = consultation_id;
    this.selfId = participant_id;
    this.iceServers = ice_servers;
    this.localStream = (await this.getLocalStream()) ?? new MediaStream();
    this.applyMediaState();
    // The offers go out before the page lays out the call. Alone in it (a GP who admitted),
    // a connection gets ready for whoever joins next, while they are being told.
    for (const peer of peers) this.addPeer(peer, true);
    this.qualityTimer = setInterval(() => this.showQuality(), QUALITY_SECONDS * 1000);
    if (peers.length > 0) {
      this.reveal();
      return;
    }
    // Alone in the call (a GP who admitted): the patient's offer is on its way. Laying out
    // the call now would keep the page busy just as it arrives, so the call is shown once
    // the answer is sent (or after REVEAL_MS, whatever comes first).
    this.spare = new WarmPeer(ice_servers, this.localStream, { offer: false });
    this.revealTimer = setTimeout(() => this.reveal(), REVEAL_MS);
  }

  reveal() {
    clearTimeout(this.revealTimer);
    if (!this.section.hidden) return;
    this.section.hidden = false;
    document.body.classList.add("in-call");
    window.visualViewport?.addEventListener("resize", this.fit);
    window.visualViewport?.addEventListener("scroll", this.fit);
    this.fitViewport();
    if ($("call-panel") && window.matchMedia(WIDE).matches) this.togglePanel(true);
    this.updateBanner();
  }

  // `offers`: this side joined after the peer, so it makes the first offer (peer.js).
  addPeer(peer, offers = false) {
    this.removePeer(peer.participant_id);
    this.peers.set(peer.participant_id, peer);
    const tile = this.tile(peer);
    const video = tile.querySelector("video");
    mark("peer-added", peer.participant_id);
    markFirstFrame(video, peer.participant_id);
    const link = new PeerLink({
      peerId: peer.participant_id,
      polite: this.selfId > peer.participant_id,
      offers,
      warm: offers ? this.warmForOffer() : this.spareForAnswer(),
      iceServers: this.iceServers,
      localStream: this.localStream,
      send: (payload) => {
        this.signalling.sendSignal({ type: "signal", to: peer.participant_id, ...payload });
        if (payload.description?.type === "answer") this.reveal();
      },
      onStream: (stream) => {
        this.play(video, stream);
        this.onAudioChange?.();
      },
      onState: (state) => {
        tile.dataset.state = state;
        this.watchMedia();
        this.updateBanner();
      },
    });
    this.links.set(peer.participant_id, link);
    for (const [at, message] of this.early.get(peer.participant_id) ?? []) {
      if (Date.now() - at < EARLY_KEPT_MS) link.receive(message);
    }
    this.early.delete(peer.participant_id);
    const report = (fields) => this.signalling.send({ type: "call.report", peer: peer.participant_id, ...fields });
    this.reporters.set(peer.participant_id, reportCall(link.pc, report));
    if (this.screenTrack) link.replaceVideo(this.screenTrack);
    // Someone new does not know that this side is muted, has its camera off or is audio
    // only; the default (all on) needs no word, and would undo an audio-only call.
    if (!this.audioOn || !this.videoOn || this.audioOnly) this.sendMediaState();
    this.updateBanner();
    this.peersChanged();
  }

  // The patient's connection made ready while waiting, for the first peer it offers to.
  warmForOffer() {
    return this.links.size === 0 ? this.takeWarmPeer?.(this.localStream) : null;
  }

  // The connection made ready as the call opened, for the first peer that joins.
  spareForAnswer() {
    const spare = this.spare;
    this.spare = null;
    if (spare?.fits(this.localStream)) return spare;
    spare?.close();
    return null;
  }

  removePeer(participantId) {
    this.links.get(participantId)?.close();
    this.links.delete(participantId);
    this.reporters.delete(participantId);
    this.peerMedia.delete(participantId); // a reloaded page starts all on, and says otherwise
    this.grid.querySelector(`[data-participant="${participantId}"]`)?.remove();
    this.updateBanner();
    this.onAudioChange?.();
    this.peersChanged();
  }

  peersChanged() {
    this.grid.dataset.count = String(this.grid.children.length);
    this.onPeersChange?.();
  }

  // Who is in the call, for the GP's panel: each peer with what they last said of their media.
  participants() {
    return [...this.peers.values()]
      .filter((peer) => this.links.has(peer.participant_id))
      .map((peer) => ({ ...peer, ...(this.peerMedia.get(peer.participant_id) ?? { audio: true, video: true }) }));
  }

  // The own microphone and each remote participant's audio, with their roles: what the
  // note-taker's tap sends on.
  audioSources() {
    const sources = [];
    const mic = this.localStream?.getAudioTracks()[0];
    if (mic) sources.push({ role: "self", track: mic });
    for (const [participantId, link] of this.links) {
      const track = link.stream.getAudioTracks()[0];
      const peer = this.peers.get(participantId);
      if (track && peer) sources.push({ role: peer.role, participantId, track });
    }
    return sources;
  }

  peerLeft({ participant_id }) {
    const peer = this.peers.get(participant_id);
    this.peers.delete(participant_id);
    this.removePeer(participant_id);
    if (peer) this.showBanner(t("call.peer_left", { name: peer.display_name }));
  }

  hasPeerOtherThan(role) {
    return [...this.peers.values()].some((peer) => peer.role !== role && this.links.has(peer.participant_id));
  }

  signal(message) {
    const link = this.links.get(message.from);
    if (link) {
      link.receive(message);
      return;
    }
    const held = (this.early.get(message.from) ?? []).filter(([at]) => Date.now() - at < EARLY_KEPT_MS);
    if (held.length < EARLY_KEPT_AT_MOST) held.push([Date.now(), message]);
    this.early.set(message.from, held);
  }

  peerMediaState({ participant_id, audio, video, audio_only = null }) {
    this.peerMedia.set(participant_id, { audio, video });
    this.showPeerMedia(participant_id);
    if (audio_only !== this.audioOnly) this.setAudioOnly(audio_only, false);
    this.onPeersChange?.();
  }

  // A tile shows the person's initials instead of a black picture while no video comes:
  // their camera is off, or the call is audio only.
  showPeerMedia(participantId) {
    const tile = this.grid.querySelector(`[data-participant="${participantId}"]`);
    if (!tile) return;
    const { audio, video } = this.peerMedia.get(participantId) ?? { audio: true, video: true };
    tile.dataset.camera = video && !this.audioOnly ? "on" : "off";
    tile.dataset.muted = String(!audio);
    tile.querySelector(".muted-flag").hidden = audio;
  }

  tile(peer) {
    const figure = $("tile-template").content.firstElementChild.cloneNode(true);
    figure.dataset.participant = peer.participant_id;
    figure.dataset.role = peer.role;
    const about = [peer.title, peer.organisation].filter(Boolean).join(", ");
    figure.querySelector(".peer-display").textContent = peer.display_name;
    figure.querySelector(".peer-about").textContent = about ? ` · ${about}` : "";
    figure.querySelector(".peer-name").title = about ? `${peer.display_name} · ${about}` : peer.display_name;
    figure.querySelector(".initials").textContent = initials(peer.display_name);
    figure.querySelector(".avatar-name").textContent = peer.display_name;
    figure.querySelector("video").setAttribute("aria-label", peer.display_name);
    this.grid.append(figure);
    this.showPeerMedia(peer.participant_id);
    return figure;
  }

  async play(video, stream) {
    if (video.srcObject !== stream) video.srcObject = stream;
    if (this.sinkId && video.setSinkId) await video.setSinkId(this.sinkId).catch(() => {});
    try {
      await video.play();
    } catch {
      // Autoplay with sound was refused (no user gesture yet): play muted, unmute on a click.
      video.muted = true;
      await video.play().catch(() => {});
      document.addEventListener("click", () => { video.muted = false; }, { once: true });
    }
  }

  async showQuality() {
    await this.watchBandwidth();
    for (const [participantId, link] of this.links) {
      const level = await link.quality().catch(() => null);
      const badge = this.grid.querySelector(`[data-participant="${participantId}"] .quality`);
      if (!badge || !level) continue;
      badge.hidden = false;
      badge.dataset.quality = level;
      badge.textContent = t(`call.quality_${level}`);
    }
  }

  async watchBandwidth() {
    if (this.audioOnly || this.links.size === 0) return;
    const rates = await Promise.all([...this.links.values()].map((l) => l.outgoingBitrate().catch(() => null)));
    const known = rates.filter((rate) => rate !== null);
    const low = known.length > 0 && Math.min(...known) < AUDIO_ONLY_BELOW_BPS;
    this.lowSamples = low ? this.lowSamples + 1 : 0;
    if (this.lowSamples >= AUDIO_ONLY_SAMPLES) this.setAudioOnly("bandwidth");
  }

  // Audio only, for everyone in the call: each side stops sending video (its camera track
  // is disabled, so rebuilt connections stay audio only too) and says why.
  setAudioOnly(reason, tell = true) {
    this.audioOnly = reason;
    this.lowSamples = 0;
    this.applyMediaState();
    for (const participantId of this.peers.keys()) this.showPeerMedia(participantId);
    if (tell) this.sendMediaState();
  }

  sendMediaState() {
    this.signalling.send({
      type: "media.state",
      audio: this.audioOn,
      video: this.videoOn,
      ...(this.audioOnly ? { audio_only: this.audioOnly } : {}),
    });
  }

  setAudio(on) {
    this.audioOn = on;
    this.applyMediaState();
    this.sendMediaState();
  }

  setVideo(on) {
    this.videoOn = on;
    this.applyMediaState();
    this.sendMediaState();
  }

  applyMediaState() {
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = this.audioOn;
    const sendVideo = this.videoOn && !this.audioOnly;
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = sendVideo;
    this.notice.hidden = !this.audioOnly;
    this.notice.textContent = this.audioOnly ? t(`call.audio_only_${this.audioOnly}`) : "";
    if (this.audioOnlyButton) {
      this.audioOnlyButton.textContent = t(this.audioOnly ? "call.video_again" : "call.audio_only");
      this.audioOnlyButton.setAttribute("aria-pressed", String(Boolean(this.audioOnly)));
    }
    label(this.micButton, t(this.audioOn ? "call.mute" : "call.unmute"));
    this.micButton.setAttribute("aria-pressed", String(!this.audioOn));
    label(this.cameraButton, t(this.videoOn ? "call.camera_off" : "call.camera_on"));
    this.cameraButton.setAttribute("aria-pressed", String(!this.videoOn));
    this.showSelf();
  }

  showSelf() {
    const sharing = Boolean(this.screenTrack);
    const stream = sharing ? this.screenStream : this.localStream;
    const camera = this.localStream?.getVideoTracks().length > 0;
    this.selfView.show(stream, { cameraOn: camera && this.videoOn && !this.audioOnly, sharing });
  }

  async toggleShare() {
    if (this.screenTrack) return this.stopShare();
    let screen;
    try {
      screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch {
      return; // the GP cancelled the picker
    }
    this.screenStream = screen;
    this.screenTrack = screen.getVideoTracks()[0];
    this.screenTrack.addEventListener("ended", () => this.stopShare());
    for (const link of this.links.values()) await link.replaceVideo(this.screenTrack);
    this.showSelf();
    label(this.shareButton, t("call.stop_share"));
    this.shareButton.setAttribute("aria-pressed", "true");
  }

  async stopShare() {
    if (!this.screenTrack) return;
    this.screenTrack.stop();
    this.screenTrack = null;
    const camera = this.localStream?.getVideoTracks()[0] ?? null;
    for (const link of this.links.values()) await link.replaceVideo(camera);
    this.showSelf();
    label(this.shareButton, t("call.share"));
    this.shareButton.setAttribute("aria-pressed", "false");
  }

  // The chat drawer; opened by the person (not by an arriving message) it takes the focus.
  toggleChat(open, focus = false) {
    $("chat").hidden = !open;
    $("toggle-chat").setAttribute("aria-expanded", String(open));
    if (open && $("call-panel") && !window.matchMedia(WIDE).matches) this.togglePanel(false);
    if (open && focus) $("chat-input").focus();
  }

  togglePanel(open) {
    const panel = $("call-panel");
    if (!panel) return;
    panel.hidden = !open;
    $("toggle-panel").setAttribute("aria-expanded", String(open));
    if (open && !window.matchMedia(WIDE).matches) this.toggleChat(false);
  }

  sendChat() {
    const text = $("chat-input").value.trim();
    if (!text || !this.signalling.send({ type: "chat", text })) return;
    this.addChatLine(t("call.you"), text, true);
    $("chat-input").value = "";
  }

  chat({ display_name, text }) {
    this.toggleChat(true);
    this.addChatLine(display_name, text, false);
  }

  addChatLine(name, text, own) {
    const line = document.createElement("li");
    line.className = own ? "own" : "";
    const who = document.createElement("strong");
    who.textContent = `${name}: `;
    line.append(who, document.createTextNode(text));
    $("chat-log").append(line);
    $("chat-log").scrollTop = $("chat-log").scrollHeight;
  }

  watchMedia() {
    const down = [...this.grid.querySelectorAll(".tile")].some(
      (tile) => tile.dataset.state === "disconnected" || tile.dataset.state === "failed",
    );
    if (!down) {
      clearTimeout(this.suspectTimer);
      this.suspectTimer = null;
    } else if (!this.suspectTimer) {
      this.suspectTimer = setTimeout(() => {
        this.suspectTimer = null;
        this.signalling.reconnect();
      }, SOCKET_SUSPECT_MS);
    }
  }

  // Reconnecting while the socket or any peer's media is down, and after that until every
  // peer is connected again (a resumed socket rebuilds the call); then "back" for a while.
  updateBanner() {
    if (!this.selfId) return;
    const states = [...this.grid.querySelectorAll(".tile")].map((tile) => tile.dataset.state);
    const down = states.some((state) => state === "disconnected" || state === "failed");
    const whole =
      states.length > 0 && states.every((state) => state === "connected" || state === "completed");
    clearTimeout(this.backTimer);
    if (this.socketDown || down || (this.recovering && !whole)) {
      this.recovering = true;
      this.showBanner(t("call.reconnecting"), "reconnecting");
    } else if (this.recovering) {
      this.recovering = false;
      this.showBanner(t("call.reconnected"), "back");
      this.backTimer = setTimeout(() => this.updateBanner(), BACK_NOTICE_MS);
    } else if (this.links.size === 0 && this.selfId) {
      this.showBanner(t("call.waiting_for_others"));
    } else {
      this.banner.dataset.state = "";
      this.banner.hidden = true;
    }
  }

  showBanner(text, state = "") {
    this.banner.textContent = text;
    this.banner.dataset.state = state;
    this.banner.hidden = false;
  }

  // Each connection's last report, before this side ends or holds the call.
  async reportFinal() {
    await Promise.all([...this.reporters.values()].map((reporter) => reporter.final()));
  }

  close() {
    clearInterval(this.qualityTimer);
    clearTimeout(this.revealTimer);
    clearTimeout(this.suspectTimer);
    this.suspectTimer = null;
    if (this.screenTrack) {
      this.screenTrack.stop();
      this.screenTrack = null;
    }
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.early.clear();
    this.spare?.close();
    this.spare = null;
    this.reporters.clear();
    this.peers.clear();
    this.peerMedia.clear();
    this.grid.replaceChildren();
    this.grid.dataset.count = "0";
    $("chat-log").replaceChildren(); // the chat is kept only for the call
    this.toggleChat(false);
    this.togglePanel(false);
    if (this.endDialog?.open) this.endDialog.close();
    this.section.hidden = true;
    document.body.classList.remove("in-call");
    window.visualViewport?.removeEventListener("resize", this.fit);
    window.visualViewport?.removeEventListener("scroll", this.fit);
    this.selfId = null;
    this.onPeersChange?.();
  }
}

// A control's words, beside its icons.
function label(button, text) {
  button.querySelector(".control-label").textContent = text;
}
