// Waiting for ICE gathering, for the server peers that take one complete offer over HTTP
// (the line test's echo, the note-taker's tap).

const GATHER_TIMEOUT_MS = 5000;

// Resolves once gathering is complete, or after a few seconds with what was gathered: host
// candidates come first, and a slow STUN server must not hold the offer back.
export function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS);
  });
}
