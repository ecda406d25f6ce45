// The console inside an LPS's own page: it tells the host window what happens, and takes one
// command from it. Messages go only to the vendor's registered origins (never "*"), and a
// command counts only from the parent window at one of them. The shapes are in
// docs/integration-guide.md ("Embedding the GP's view").

const SOURCE = "almenvideo";

function iso(seconds) {
  return seconds == null ? null : new Date(seconds * 1000).toISOString();
}

export class HostWindow {
  // The host window, when this page is framed by it; otherwise null.
  static connect({ consultation_id, origins }, { onEndCall }) {
    if (window.parent === window || !origins.length) return null;
    return new HostWindow(consultation_id, origins, onEndCall);
  }

  constructor(consultationId, origins, onEndCall) {
    this.consultationId = consultationId;
    this.origins = origins;
    // Where the browser says the parent is (Chromium, Safari); elsewhere every registered
    // origin is tried, and the browser delivers only to the one that matches.
    const parent = location.ancestorOrigins?.[0];
    this.targets = origins.includes(parent) ? [parent] : origins;
    this.onEndCall = onEndCall;
    this.waiting = false;
    this.isReady = false;
    window.addEventListener("message", (event) => this.receive(event));
  }

  post(type, fields = {}) {
    const message = { source: SOURCE, type, consultation_id: this.consultationId, ...fields };
    for (const origin of this.targets) window.parent.postMessage(message, origin);
  }

  receive(event) {
    if (event.source !== window.parent || !this.origins.includes(event.origin)) return;
    if (event.data?.type === "end-call") this.onEndCall();
  }

  // Once, when the console first has the waiting room (not again on a reconnect).
  ready() {
    if (this.isReady) return;
    this.isReady = true;
    this.post("ready");
  }

  // Called with the waiting room (consultation id -> entry) whenever it changes: an arrival
  // of this consultation's patient is announced once (and again after a hold).
  queue(waiting) {
    const entry = waiting.get(this.consultationId);
    if (entry && !this.waiting) {
      this.post("patient.waiting", { waiting_since: iso(entry.waiting_since), connected: entry.connected });
    }
    this.waiting = Boolean(entry);
  }

  left(consultationId, reason) {
    if (consultationId !== this.consultationId) return;
    this.waiting = false;
    if (reason !== "admitted") this.post("patient.left", { reason });
  }

  callStarted(consultationId) {
    if (consultationId === this.consultationId) this.post("call.started");
  }

  callEnded(consultationId, billingCode) {
    if (consultationId === this.consultationId) this.post("call.ended", { billing_code: billingCode });
  }

  // For the note-taker: the consultation's note is ready ("draft", or "approved" by the GP),
  // so the LPS can fetch it with GET /api/v1/consultations/{id}/note.
  noteReady(status) {
    this.post("note.ready", { status });
  }
}
