// The call stage: a tile per remote participant, the own preview, and the controls.
// Used by both the patient page and the GP console; one PeerLink per remote participant.

import { PeerLink } from "./peer.js";
import { t } from "./strings.js";

export class CallStage {
  constructor({ signalling, getLocalStream, onHangup, sinkId = "" }) {
    this.signalling = signalling;
    this.getLocalStream = getLocalStream;
    this.onHangup = onHangup;
    this.sinkId = sinkId;
    this.section = document.getElementById("call");
    this.grid = document.getElementById("remote-grid");
    this.selfView = document.getElementById("call-self");
    this.banner = document.getElementById("call-banner");
    this.micButton = document.getElementById("toggle-mic");
    this.cameraButton = document.getElementById("toggle-camera");
    this.links = new Map();
    this.peers = new Map();
    this.selfId = null;
    this.iceServers = [];
    this.localStream = null;
    this.audioOn = true;
    this.videoOn = true;

    this.micButton.addEventListener("click", () => this.setAudio(!this.audioOn));
    this.cameraButton.addEventListener("click", () => this.setVideo(!this.videoOn));
    document.getElementById("hangup").addEventListener("click", () => this.onHangup());
  }

  async join({ participant_id, peers, ice_servers }) {
    this.close();
    this.selfId = participant_id;
    this.iceServers = ice_servers;
    this.localStream = (await this.getLocalStream()) ?? new MediaStream();
    this.selfView.srcObject = this.localStream;
    this.applyMediaState();
    this.section.hidden = false;
    for (const peer of peers) this.addPeer(peer);
    this.updateBanner();
  }

  addPeer(peer) {
    this.removePeer(peer.participant_id);
    this.peers.set(peer.participant_id, peer);
    const tile = this.tile(peer);
    const video = tile.querySelector("video");
    const link = new PeerLink({
      peerId: peer.participant_id,
      polite: this.selfId > peer.participant_id,
      iceServers: this.iceServers,
      localStream: this.localStream,
      send: (payload) => this.signalling.send({ type: "signal", to: peer.participant_id, ...payload }),
      onStream: (stream) => this.play(video, stream),
      onState: (state) => {
        tile.dataset.state = state;
        this.updateBanner();
      },
    });
    this.links.set(peer.participant_id, link);
    this.updateBanner();
  }

  removePeer(participantId) {
    this.links.get(participantId)?.close();
    this.links.delete(participantId);
    this.grid.querySelector(`[data-participant="${participantId}"]`)?.remove();
    this.updateBanner();
  }

  peerLeft({ participant_id }) {
    const peer = this.peers.get(participant_id);
    this.removePeer(participant_id);
    if (peer) this.showBanner(t("call.peer_left", { name: peer.display_name }));
  }

  signal(message) {
    const link = this.links.get(message.from);
    if (link) link.receive(message);
  }

  peerMediaState({ participant_id, audio }) {
    const flag = this.grid.querySelector(`[data-participant="${participant_id}"] .muted-flag`);
    if (flag) flag.hidden = audio;
  }

  tile(peer) {
    const figure = document.createElement("figure");
    figure.className = "tile";
    figure.dataset.participant = peer.participant_id;
    figure.dataset.role = peer.role;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.dataset.testid = "remote-video";
    video.setAttribute("data-testid", "remote-video");
    const caption = document.createElement("figcaption");
    caption.textContent = peer.display_name;
    const flag = document.createElement("span");
    flag.className = "muted-flag";
    flag.hidden = true;
    flag.textContent = ` · ${t("call.peer_muted")}`;
    caption.append(flag);
    figure.append(video, caption);
    this.grid.append(figure);
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

  setAudio(on) {
    this.audioOn = on;
    this.applyMediaState();
    this.signalling.send({ type: "media.state", audio: this.audioOn, video: this.videoOn });
  }

  setVideo(on) {
    this.videoOn = on;
    this.applyMediaState();
    this.signalling.send({ type: "media.state", audio: this.audioOn, video: this.videoOn });
  }

  applyMediaState() {
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = this.audioOn;
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = this.videoOn;
    this.micButton.textContent = t(this.audioOn ? "call.mute" : "call.unmute");
    this.micButton.setAttribute("aria-pressed", String(!this.audioOn));
    this.cameraButton.textContent = t(this.videoOn ? "call.camera_off" : "call.camera_on");
    this.cameraButton.setAttribute("aria-pressed", String(!this.videoOn));
  }

  updateBanner() {
    const states = [...this.grid.querySelectorAll(".tile")].map((tile) => tile.dataset.state);
    if (states.some((state) => state === "disconnected" || state === "failed")) {
      this.showBanner(t("call.reconnecting"));
    } else if (this.links.size === 0 && this.selfId) {
      this.showBanner(t("call.waiting_for_others"));
    } else {
      this.banner.hidden = true;
    }
  }

  showBanner(text) {
    this.banner.textContent = text;
    this.banner.hidden = false;
  }

  close() {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.peers.clear();
    this.grid.replaceChildren();
    this.section.hidden = true;
    this.selfId = null;
  }
}
