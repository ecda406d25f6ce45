// An invited professional's page (e.g. a home-care nurse): camera check, the lobby until
// the GP lets them in, the call, and its end. Known by their login and the invitation token.

import { CallStage } from "./call.js";
import { openMedia } from "./devices.js";
import { NoteTaker } from "./notetaker.js";
import { Signalling } from "./signalling.js";
import { t } from "./strings.js";

const $ = (id) => document.getElementById(id);
const token = $("professional").dataset.token;
const steps = ["step-prejoin", "step-waiting", "call", "step-end"];
let stream = null;

function show(step) {
  for (const id of steps) $(id).hidden = id !== step;
}

async function media() {
  if (stream) return stream;
  try {
    stream = await openMedia();
    $("media-problem").hidden = true;
  } catch (error) {
    $("media-problem-title").textContent = t(`media.${error.kind}_title`);
    $("media-problem-text").textContent = t(`media.${error.kind}_text`);
    $("media-problem").hidden = false;
    stream = new MediaStream();
  }
  $("preview").srcObject = stream;
  return stream;
}

function end(titleKey, textKey) {
  signalling.close();
  stage.close();
  notetaker.reset();
  for (const track of stream?.getTracks() ?? []) track.stop();
  $("end-title").textContent = t(titleKey);
  $("end-text").textContent = t(textKey);
  show("step-end");
}

const signalling = new Signalling(() => ({ invitation: token }));
const stage = new CallStage({
  signalling,
  getLocalStream: media,
  onHangup: () => end("pro.left_title", "pro.left_text"),
});
const notetaker = new NoteTaker({ role: "staff", signalling });

signalling
  .on("session_ended", () => location.reload()) // logged out elsewhere: the page asks to log in
  .on("welcome", ({ state }) => {
    if (state === "waiting") show("step-waiting");
  })
  .on("call.joined", async (message) => {
    await stage.join(message);
    show("call");
  })
  .on("peer.joined", ({ peer }) => stage.addPeer(peer))
  .on("peer.left", (message) => stage.peerLeft(message))
  .on("signal", (message) => stage.signal(message))
  .on("media.state", (message) => stage.peerMediaState(message))
  .on("chat", (message) => stage.chat(message))
  .on("notetaker.state", (message) => notetaker.update(message))
  .on("removed", () => end("pro.removed_title", "pro.removed_text"))
  .on("call.ended", () => end("pro.ended_title", "pro.ended_text"))
  .on("superseded", () => end("patient.superseded_title", "patient.superseded_text"))
  .on("error", ({ code }) => {
    if (code.startsWith("invitation_")) location.reload(); // the page explains it
  });

$("join").addEventListener("click", async () => {
  $("join").disabled = true;
  await media();
  show("step-waiting");
  signalling.connect();
});
$("join").disabled = false; // enabled once the page can act on it
media();
