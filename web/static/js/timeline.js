// Call set-up milestones as User Timing marks named "call:<step>" (detail: the peer's id, where
// there is one), so the time from admit to the first picture can be taken apart: in DevTools'
// Performance panel, or by bench/call_setup.py through performance.getEntriesByType("mark").
// A handful of entries per call; nothing leaves the page.

export function mark(step, peerId = null) {
  performance.mark(`call:${step}`, { detail: peerId });
}

// The first frame of a remote picture that was actually presented.
export function markFirstFrame(video, peerId) {
  video.requestVideoFrameCallback?.(() => mark("first-frame", peerId));
}
