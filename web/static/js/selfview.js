// The own picture on the call screen: a small view in a corner of the stage. Its button (or
// a drag, which lands in the nearest corner) moves it round the corners; it can be hidden
// and shown again. The corner is kept for the next call. Tile labels sit at the edge away
// from it (CSS reads the corner from the call section), so it never covers a name.

import { recall, remember } from "./storage.js";

const CORNERS = ["tr", "br", "bl", "tl"];
const KEY = "almenvideo.selfview";
const DRAG_PX = 8; // less than this is a tap, not a drag

export class SelfView {
  constructor({ section, figure, video, moveButton, hideButton, showButton }) {
    this.section = section;
    this.figure = figure;
    this.video = video;
    this.showButton = showButton;
    const saved = recall(KEY) ?? "";
    const [corner, hidden] = saved.split(":");
    this.setCorner(CORNERS.includes(corner) ? corner : "tr");
    this.setHidden(hidden === "hidden");
    moveButton.addEventListener("click", () => {
      this.setCorner(CORNERS[(CORNERS.indexOf(this.corner) + 1) % CORNERS.length]);
    });
    hideButton.addEventListener("click", () => {
      this.setHidden(true);
      showButton.focus();
    });
    showButton.addEventListener("click", () => this.setHidden(false));
    figure.addEventListener("pointerdown", (event) => this.drag(event));
  }

  setCorner(corner) {
    this.corner = corner;
    this.section.dataset.selfCorner = corner;
    this.save();
  }

  setHidden(hidden) {
    this.hidden = hidden;
    this.figure.hidden = hidden;
    this.showButton.hidden = !hidden;
    this.save();
  }

  save() {
    remember(KEY, `${this.corner}:${this.hidden ? "hidden" : "shown"}`);
  }

  show(stream, { cameraOn, sharing }) {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    this.figure.dataset.camera = cameraOn || sharing ? "on" : "off";
    this.figure.dataset.sharing = String(sharing);
  }

  // Follow the pointer, then settle in the corner nearest to where it was let go.
  drag(event) {
    if (event.target.closest("button")) return;
    const stage = this.figure.parentElement.getBoundingClientRect();
    const start = this.figure.getBoundingClientRect();
    const [x0, y0] = [event.clientX, event.clientY];
    let moved = false;
    this.figure.setPointerCapture(event.pointerId);
    const move = (e) => {
      const [dx, dy] = [e.clientX - x0, e.clientY - y0];
      if (!moved && Math.hypot(dx, dy) < DRAG_PX) return;
      moved = true;
      this.figure.style.transform = `translate(${dx}px, ${dy}px)`;
    };
    const up = (e) => {
      this.figure.removeEventListener("pointermove", move);
      this.figure.style.transform = "";
      if (!moved) return;
      const x = start.left + start.width / 2 + e.clientX - x0;
      const y = start.top + start.height / 2 + e.clientY - y0;
      const vertical = y < stage.top + stage.height / 2 ? "t" : "b";
      const horizontal = x < stage.left + stage.width / 2 ? "l" : "r";
      this.setCorner(vertical + horizontal);
    };
    this.figure.addEventListener("pointermove", move);
    this.figure.addEventListener("pointerup", up, { once: true });
    this.figure.addEventListener("pointercancel", up, { once: true });
  }
}
