// The LPS's side of the embedded GP view: log what the frame tells us, and ask it to end
// the call. Messages count only from the frame, at almenvideo's origin; ours go only there.

const config = JSON.parse(document.getElementById("host-config").textContent);
const frame = document.getElementById("gp-view");
const log = document.getElementById("event-log");
// A Danish practice's clock, whatever the machine's: the log never mixes UTC and local times.
const clock = new Intl.DateTimeFormat("da-DK", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "Europe/Copenhagen",
});
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

// The message's details as shown: any timestamp in it on the same local clock.
function shown(details) {
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [
      key,
      typeof value === "string" && ISO_TIME.test(value) ? clock.format(new Date(value)) : value,
    ]),
  );
}

window.addEventListener("message", (event) => {
  if (event.origin !== config.origin || event.source !== frame.contentWindow) return;
  const message = event.data;
  if (message?.source !== "almenvideo" || typeof message.type !== "string") return;
  const { source, type, consultation_id, ...details } = message;
  const item = document.createElement("li");
  item.dataset.type = type;
  item.dataset.message = JSON.stringify(message);
  const name = document.createElement("strong");
  name.textContent = type;
  item.append(`${clock.format(new Date())} `, name);
  if (Object.keys(details).length) item.append(` ${JSON.stringify(shown(details))}`);
  log.append(item);
});

document.getElementById("end-call").addEventListener("click", () => {
  frame.contentWindow.postMessage({ type: "end-call" }, config.origin);
});
