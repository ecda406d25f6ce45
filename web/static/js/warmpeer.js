// A peer connection made ready before the other side is there, so that set-up costs little
// once it is. The patient's, made while waiting, offers (`offer`): the camera and microphone
// tracks added, the offer made and set, and ICE candidates gathered (host, server reflexive
// and relay, with fresh TURN credentials). The GP's, made as its call opens and the patient
// is being told, answers: the tracks added (the offer's sections take them, so the answer
// needs no second round). It gathers when its answer is set, not before: with a candidate
// pool, Chromium now and then took the pooled gathering over mid-way and then gathered
// nothing at all (no candidate, ICE "new" for good: 1 call in 60 of the network matrix).
// Either stays in its page: no description or candidate is sent and no media flows until a
// PeerLink adopts it for a peer in the call; an offering one then sends its offer and
// candidates at once.
//
// TURN credentials expire (the username is "<expiry>:<user>"), and a relay allocation
// refreshed with expired ones is lost, so a long wait makes a new one at half the time left.

import { mark } from "./timeline.js";

const KEEP_AT_MOST_MS = 10 * 60 * 1000;

export class WarmPeer {
  constructor(iceServers, stream, { offer = true } = {}) {
    this.stream = stream;
    this.offers = offer;
    this.sendCandidate = null; // once in the call
    this.adopted = false;
    this.offered = false; // the offer is set
    this.failed = false;
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.sendCandidate?.(candidate.toJSON());
    });
    for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
    this.expiresAt = Date.now() + keepFor(iceServers);
    if (!offer) return;
    for (const kind of ["audio", "video"]) {
      if (!stream.getTracks().some((track) => track.kind === kind)) {
        this.pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
    this.ready = this.pc.setLocalDescription().then(
      () => {
        this.offered = true;
        mark("warm");
      },
      () => {
        this.failed = true;
      },
    );
  }

  // Made for this stream, and nothing has gone stale (its offer may still be on its way:
  // an admit right after joining waits the few milliseconds left rather than start anew).
  fits(stream) {
    return !this.adopted && !this.failed && this.stream === stream && Date.now() < this.expiresAt;
  }

  // The call starts: the connection is the caller's now.
  adopt() {
    mark("warm-adopted");
    this.adopted = true;
    return this.pc;
  }

  // Send the offer (if this one offers), then each candidate still to come: at once if the
  // offer is set (before the page goes on to lay out the call), else when it is. The
  // candidates gathered so far are in the offer's SDP, so they are not sent again (eight
  // fewer messages through the server per call here); an answering one gathers once its
  // answer is set. False if the offer
  // could not be made (the caller then negotiates as usual).
  async handOver(sendOffer, sendCandidate) {
    if (this.offers) {
      if (!this.offered) await this.ready;
      if (this.failed) return false;
      sendOffer();
    }
    this.sendCandidate = sendCandidate;
    return true;
  }

  close() {
    if (!this.adopted) this.pc.close();
  }
}

function keepFor(iceServers) {
  let keep = KEEP_AT_MOST_MS;
  for (const server of iceServers) {
    const expiry = Number(String(server.username ?? "").split(":")[0]);
    if (expiry > 0) keep = Math.min(keep, (expiry * 1000 - Date.now()) / 2);
  }
  return keep;
}
