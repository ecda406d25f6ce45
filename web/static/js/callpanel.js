// The GP's panel beside the call (a drawer on a phone): who is in the call, with a way to
// take an invited professional out; who waits to come in (the console's lobby, which the
// console moves in here); inviting a municipality; and moving the patient on, back to the
// waiting room or to a colleague's. The note-taker's panel sits in it too (notetaker.js).

import { inviteForm, inviteLink } from "./invite.js";
import { t } from "./strings.js";

const $ = (id) => document.getElementById(id);

export class CallPanel {
  constructor({ stage, organisations, colleagues, me, onRemove, onTransfer, onError }) {
    this.stage = stage;
    this.organisations = organisations;
    this.onRemove = onRemove;
    this.onError = onError;
    this.consultationId = null;
    this.links = new Map(); // consultation id -> invitation link made during the call
    const others = colleagues.filter((c) => c.id !== me);
    $("call-transfer-to").append(...others.map((c) => new Option(c.display_name, c.id)));
    $("call-transfer").hidden = others.length === 0;
    $("call-transfer").addEventListener("submit", (event) => {
      event.preventDefault();
      onTransfer($("call-transfer-to").value);
    });
  }

  show(consultationId) {
    this.consultationId = consultationId;
    $("call-invite").hidden = !consultationId || this.organisations.length === 0;
    if (!$("call-invite").hidden) this.renderInvite();
    this.render();
  }

  renderInvite() {
    const consultationId = this.consultationId;
    const form = inviteForm({
      consultationId,
      organisations: this.organisations,
      onInvited: (url) => {
        this.links.set(consultationId, url);
        this.renderInvite();
        $("call-invite-form").querySelector("input")?.focus(); // selected, ready to copy
      },
      onError: this.onError,
    });
    const url = this.links.get(consultationId);
    $("call-invite-form").replaceChildren(form, ...(url ? [inviteLink(url)] : []));
  }

  render() {
    const you = participant(t("call.you"), t("call.role_gp"));
    const items = this.stage.participants().map((peer) => {
      const about = [peer.title, peer.organisation].filter(Boolean).join(", ");
      const item = participant(peer.display_name, about || t(`call.role_${peer.role}`));
      item.dataset.participant = peer.participant_id;
      item.dataset.role = peer.role;
      if (!peer.audio) {
        const muted = document.createElement("span");
        muted.className = "muted-flag";
        muted.textContent = t("call.peer_muted");
        item.append(muted);
      }
      if (peer.role !== "gp") {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button";
        remove.textContent = t("call.remove_participant");
        remove.setAttribute("aria-label", `${t("call.remove_participant")}: ${peer.display_name}`);
        remove.setAttribute("data-testid", "remove-participant");
        remove.addEventListener("click", () => this.onRemove(peer));
        item.append(remove);
      }
      return item;
    });
    $("participants").replaceChildren(you, ...items);
  }
}

function participant(name, role) {
  const item = document.createElement("li");
  const who = document.createElement("strong");
  who.textContent = name;
  const what = document.createElement("span");
  what.className = "who-role";
  what.textContent = role;
  item.append(who, what);
  return item;
}
