// One peer connection to one other participant, using the "perfect negotiation" pattern:
// either side may (re)negotiate at any time; on a collision the polite side yields.
// Trickle ICE sends candidates as they come. ICE is restarted when the connection fails, and
// also when it stays disconnected for a few seconds (a lost link, a new address), since
// Chromium takes far longer to call it failed; the restart is repeated until it is back.
// It is restarted too when an offer and answer have been exchanged and ICE has still not
// begun a few seconds later: no candidate pair at all means a gathering that yielded
// nothing, or candidates lost on the way, and Chromium would wait for ever.
//
// To avoid a collision on every call set-up, only one side offers first: the one that joins
// the call and finds the other already there (it is told of its peers in `call.joined`, the
// other learns of it from `peer.joined`, and the server's call membership settles which
// came first). It adds its tracks (and receive-only slots for what it lacks) at once; the
// other waits for that offer and answers with its own tracks attached to the offered
// transceivers. A patient being admitted joins after the GP, so it is the patient who offers,
// at once, from a connection made ready while waiting (warmpeer.js).

import { mark } from "./timeline.js";

const RESTART_AFTER_DISCONNECTED_MS = 3000;
const RESTART_AGAIN_MS = 5000;
// From a completed offer/answer to the first connectivity check ("checking") takes a round
// trip or two even through a TURN server over TCP; this long without one is stuck.
const RESTART_IF_NOT_STARTED_MS = 4000;

export class PeerLink {
  constructor({ peerId, polite, offers, warm = null, iceServers, localStream, send, onStream, onState }) {
    this.peerId = peerId;
    this.polite = polite;
    this.send = send;
    this.onState = onState;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    // The side that does not offer first adds no tracks of its own before the offer, unless
    // it adopted a ready connection that has them: they then wait for the offer's sections
    // rather than start an offer of their own.
    this.awaitingOffer = !offers;
    this.inbox = Promise.resolve();
    this.stream = new MediaStream();

    const pc = warm?.adopt() ?? new RTCPeerConnection({ iceServers });
    this.pc = pc;
    this.localStream = localStream;
    if (offers && !warm) {
      for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
      for (const kind of ["audio", "video"]) {
        if (!localStream.getTracks().some((track) => track.kind === kind)) {
          pc.addTransceiver(kind, { direction: "recvonly" });
        }
      }
    }
    pc.addEventListener("track", ({ track, streams }) => {
      const source = streams[0];
      if (source && this.stream !== source) this.stream = source;
      else if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track);
      onStream(this.stream);
    });
    pc.addEventListener("negotiationneeded", () => this.negotiate());
    const sendCandidate = (candidate) => this.send({ candidate });
    if (!warm) {
      pc.addEventListener("icecandidate", ({ candidate }) => {
        if (candidate) sendCandidate(candidate.toJSON());
      });
    }
    pc.addEventListener("iceconnectionstatechange", () => {
      if (pc.iceConnectionState === "connected") mark("ice-connected", peerId);
      this.watchIce();
      this.onState(pc.iceConnectionState);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") mark("connected", peerId);
    });
    warm?.handOver(() => this.sendDescription(), sendCandidate).then((offered) => {
      if (!offered) this.negotiate();
    });
  }

  watchIce() {
    clearTimeout(this.restartTimer);
    const state = this.pc.iceConnectionState;
    if (state === "failed") this.restartIce();
    else if (state === "disconnected") {
      this.restartTimer = setTimeout(() => this.restartIce(), RESTART_AFTER_DISCONNECTED_MS);
    }
  }

  // An offer still unanswered after a while was lost (the socket was down when it was sent,
  // or reconnected since): roll it back, so the restart sends a fresh one.
  async restartIce() {
    const pc = this.pc;
    if (pc.signalingState === "closed") return;
    if (pc.signalingState === "have-local-offer" && !this.makingOffer) {
      await pc.setLocalDescription({ type: "rollback" }).catch(() => {});
    }
    pc.restartIce();
    this.restartTimer = setTimeout(() => {
      if (["disconnected", "failed"].includes(pc.iceConnectionState)) this.restartIce();
    }, RESTART_AGAIN_MS);
  }

  async negotiate() {
    if (this.awaitingOffer) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.pc.localDescription) this.sendDescription();
    } catch (error) {
      console.warn("negotiation failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  sendDescription() {
    const { type, sdp } = this.pc.localDescription;
    this.send({ description: { type, sdp } });
    mark(`${type}-sent`, this.peerId);
    if (type === "answer") this.expectIceToStart();
  }

  // An offer and answer have met (this side sent or received the answer): ICE should begin.
  expectIceToStart() {
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => {
      if (this.pc.iceConnectionState === "new" && this.pc.signalingState === "stable") {
        mark("ice-not-started", this.peerId);
        this.restartIce();
      }
    }, RESTART_IF_NOT_STARTED_MS);
  }

  receive(signal) {
    // Handle signals strictly in arrival order.
    this.inbox = this.inbox.then(() => this.handle(signal)).catch((error) => {
      console.warn("signal failed", error);
    });
  }

  async handle({ description, candidate }) {
    const pc = this.pc;
    if (description) {
      mark(`${description.type}-received`, this.peerId);
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      this.settingRemoteAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);
      this.settingRemoteAnswer = false;
      if (description.type === "answer") this.expectIceToStart();
      if (description.type === "offer") {
        this.awaitingOffer = false;
        await this.attachLocalTracks();
        await pc.setLocalDescription();
        this.sendDescription();
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        if (!this.ignoreOffer) throw error;
      }
    }
  }

  // Send our tracks on the transceivers the offer opened; add any that found no slot
  // (that triggers a renegotiation of our own).
  async attachLocalTracks() {
    const stream = this.localStream;
    for (const track of stream.getTracks()) {
      if (this.pc.getSenders().some((sender) => sender.track === track)) continue;
      const slot = this.pc
        .getTransceivers()
        .find((t) => !t.stopped && !t.sender.track && t.receiver.track.kind === track.kind);
      if (slot) {
        await slot.sender.replaceTrack(track);
        slot.sender.setStreams?.(stream);
        slot.direction = "sendrecv";
      } else {
        this.pc.addTrack(track, stream);
      }
    }
  }

  // Send another picture (a shared screen, or the camera again) without renegotiating.
  async replaceVideo(track) {
    for (const transceiver of this.pc.getTransceivers()) {
      const sender = transceiver.sender;
      if (transceiver.receiver.track.kind === "video" && (sender.track || track)) {
        await sender.replaceTrack(track);
      }
    }
  }

  // good | fair | poor from round-trip time and inbound loss since the last sample.
  async quality() {
    const stats = await this.pc.getStats();
    let rtt = null;
    let lost = 0;
    let received = 0;
    stats.forEach((report) => {
      if (report.type === "candidate-pair" && report.nominated && report.currentRoundTripTime !== undefined) {
        rtt = report.currentRoundTripTime;
      }
      if (report.type === "inbound-rtp") {
        lost += report.packetsLost ?? 0;
        received += report.packetsReceived ?? 0;
      }
    });
    const last = this.lastCounts ?? { lost: 0, received: 0 };
    this.lastCounts = { lost, received };
    const newLost = lost - last.lost;
    const newTotal = newLost + (received - last.received);
    const loss = newTotal > 0 ? newLost / newTotal : 0;
    if (rtt === null) return null;
    if (rtt < 0.3 && loss < 0.02) return "good";
    if (rtt < 0.6 && loss < 0.08) return "fair";
    return "poor";
  }

  // What the congestion controller thinks this side can send now (bit/s), or null.
  async outgoingBitrate() {
    const stats = await this.pc.getStats();
    let bitrate = null;
    stats.forEach((report) => {
      if (report.type === "candidate-pair" && report.nominated && report.availableOutgoingBitrate) {
        bitrate = report.availableOutgoingBitrate;
      }
    });
    return bitrate;
  }

  close() {
    clearTimeout(this.restartTimer);
    clearTimeout(this.startTimer);
    this.pc.close();
  }
}
