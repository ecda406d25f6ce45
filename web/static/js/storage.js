// Remembered choices, in localStorage when the browser allows it. A frame on another site
// (the console inside an LPS) may be refused storage when third-party storage is blocked;
// then a choice lasts as long as the page.

const memory = new Map();

export function recall(key) {
  try {
    return window.localStorage.getItem(key) ?? memory.get(key) ?? null;
  } catch {
    return memory.get(key) ?? null;
  }
}

export function remember(key, value) {
  memory.set(key, value);
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // refused: kept in memory only
  }
}
