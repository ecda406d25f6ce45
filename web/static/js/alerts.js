// Telling a GP that a patient arrived: a short chime (made with WebAudio, no sound file),
// a desktop notification when allowed, and the waiting count in the tab title.
// Each can be switched off; the choice is remembered in this browser.

import { recall, remember } from "./storage.js";

const KEY = "almenvideo.alerts";

export class ArrivalAlerts {
  constructor({ sound, desktop, title }) {
    this.boxes = { sound, desktop, title };
    const saved = JSON.parse(recall(KEY) || "{}");
    for (const [name, box] of Object.entries(this.boxes)) {
      if (name in saved) box.checked = saved[name];
      box.addEventListener("change", () => this.changed(name));
    }
    this.baseTitle = document.title;
    this.audio = null;
  }

  async changed(name) {
    const box = this.boxes[name];
    if (name === "desktop" && box.checked && "Notification" in window) {
      box.checked = (await Notification.requestPermission()) === "granted";
    }
    if (name === "sound" && box.checked) this.context(); // a click is a gesture: unlock audio
    const saved = Object.fromEntries(Object.entries(this.boxes).map(([k, b]) => [k, b.checked]));
    remember(KEY, JSON.stringify(saved));
  }

  context() {
    this.audio ??= new AudioContext();
    this.audio.resume();
    return this.audio;
  }

  arrived(text) {
    if (this.boxes.sound.checked) this.chime();
    if (this.boxes.desktop.checked && "Notification" in window && Notification.permission === "granted") {
      new Notification(text, { tag: "almenvideo-arrival" });
    }
  }

  chime() {
    const audio = this.context();
    const start = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.18, 1320]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.4);
    }
  }

  count(waiting) {
    const show = this.boxes.title.checked && waiting > 0;
    document.title = show ? `(${waiting}) ${this.baseTitle}` : this.baseTitle;
  }
}
