// Camera, microphone and speaker: choosing them, opening them, the level meter, and
// turning a getUserMedia failure into something a patient can act on.

export async function openMedia({ cameraId = "", micId = "" } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error("unsupported"), { kind: "unsupported" });
  const video = cameraId ? { deviceId: { exact: cameraId } } : true;
  const audio = micId ? { deviceId: { exact: micId }, echoCancellation: true } : { echoCancellation: true };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio });
  } catch (error) {
    error.kind = classify(error);
    throw error;
  }
}

export function classify(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "notfound";
    case "NotReadableError":
    case "AbortError":
      return "busy";
    default:
      return "unsupported";
  }
}

export async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === "videoinput"),
    mics: devices.filter((d) => d.kind === "audioinput"),
    speakers: devices.filter((d) => d.kind === "audiooutput"),
  };
}

export function fillSelect(select, devices, selectedId, fallbackLabel) {
  select.replaceChildren(
    ...devices.map((device, index) => {
      const option = new Option(device.label || `${fallbackLabel} ${index + 1}`, device.deviceId);
      option.selected = device.deviceId === selectedId;
      return option;
    }),
  );
}

// Calls onLevel(0..100) about 20 times a second until the returned stop() is called.
export function levelMeter(stream, onLevel) {
  const tracks = stream.getAudioTracks();
  if (!tracks.length) return () => {};
  const context = new AudioContext();
  const resume = () => context.resume();
  document.addEventListener("pointerdown", resume, { once: true });
  document.addEventListener("keydown", resume, { once: true });
  const source = context.createMediaStreamSource(new MediaStream(tracks));
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    const rms = Math.sqrt(sum / samples.length);
    onLevel(Math.min(100, Math.round(rms * 300)));
  }, 50);
  return () => {
    clearInterval(timer);
    context.close();
  };
}
