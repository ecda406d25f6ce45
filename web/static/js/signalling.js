// The signalling socket: versioned JSON messages, `hello` on every (re)connect, and
// reconnection with back-off until the page says it is done. `open` and `reconnecting` tell
// the page (and its call stage) when the socket is up or down.

const VERSION = 1;
const SUPERSEDED = 4001;
const SESSION_ENDED = 4003; // the login this socket was opened with has ended
// A busy server refuses a signal with `overloaded` and a hint; it is sent again (the same
// `ref`), with back-off. The server refuses every later signal to that peer until the
// refused one is back, so resending in the order refused keeps the order they were sent in.
const SIGNALS_KEPT = 256; // recent signals, by ref, that a refusal may name
const RETRY_CAP_MS = 5000;

export class Signalling {
  constructor(hello) {
    this.hello = hello; // () => hello fields, called on every connect
    this.handlers = new Map();
    this.ws = null;
    this.finished = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.signalRefs = 0;
    this.signals = new Map(); // ref -> a signal recently sent
    this.refused = []; // signals to send again, in the order they were refused
    this.refusedTimer = null;
    this.refusals = 0; // in a row: the back-off grows with them
    // A new network (Wi-Fi to mobile, the cable back in) leaves the socket on an address
    // that may be gone: connect anew at once rather than wait for TCP to notice.
    addEventListener("online", () => this.reconnect());
    addEventListener("offline", () => {
      if (this.ws && !this.finished) this.emit("reconnecting");
    });
  }

  on(type, handler) {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler]);
    return this;
  }

  emit(type, detail) {
    for (const handler of this.handlers.get(type) ?? []) handler(detail);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.send({ type: "hello", ...this.hello() });
      this.emit("open");
    });
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "error" && message.code === "overloaded" && this.signals.has(message.ref)) {
        this.retrySignal(message);
        return;
      }
      if (message.type === "signal") this.refusals = 0;
      this.emit(message.type, message);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      if (this.finished || event.code === SUPERSEDED || event.code === SESSION_ENDED) {
        this.finished = true;
        if (event.code === SESSION_ENDED) this.emit("session_ended");
        this.emit("closed");
        return;
      }
      this.emit("reconnecting");
      const delay = Math.min(10000, 250 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  // Give up on a socket that may be dead without knowing it (its address is gone, so
  // nothing comes back and TCP would take minutes to say so) and connect anew; the server
  // resumes the seat and rebuilds the call.
  reconnect() {
    if (this.finished || !this.ws) return; // never connected: nothing to resume
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    this.attempt = 0;
    this.emit("reconnecting");
    this.connect();
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ v: VERSION, ...message }));
      return true;
    }
    return false;
  }

  // A WebRTC description or candidate for another participant: never lost to a busy server.
  sendSignal(message) {
    const ref = `s${++this.signalRefs}`;
    this.signals.set(ref, message);
    if (this.signals.size > SIGNALS_KEPT) this.signals.delete(this.signals.keys().next().value);
    return this.send({ ...message, ref });
  }

  retrySignal({ ref, retry_after_ms: after }) {
    this.refused.push(ref);
    if (this.refusedTimer) return;
    const delay = Math.min(RETRY_CAP_MS, (after ?? 250) * 2 ** this.refusals++) * (0.5 + Math.random() / 2);
    this.refusedTimer = setTimeout(() => {
      this.refusedTimer = null;
      const refs = this.refused;
      this.refused = [];
      for (const again of refs) {
        const message = this.signals.get(again);
        if (message) this.send({ ...message, ref: again });
      }
    }, delay);
  }

  close() {
    this.finished = true;
    if (this.ws) this.ws.close(1000);
  }
}
