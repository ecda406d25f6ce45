// Inviting a municipality's professional into a consultation, before or during the call:
// the form (an organisation, and a person there or anyone) posting to the one invitation
// endpoint, and the link it makes, shown until the page is left (it is not stored in
// clear). Used by the console's day list and by the call's panel.

import { t } from "./strings.js";

export function inviteForm({ consultationId, organisations, onInvited, onError }) {
  const form = document.createElement("form");
  form.className = "tool";
  form.dataset.tool = "invite";
  form.setAttribute("aria-label", t("console.invite"));
  const org = document.createElement("select");
  org.setAttribute("aria-label", t("console.invite_organisation"));
  org.setAttribute("data-testid", "invite-organisation");
  org.append(...organisations.map((o) => new Option(o.name, o.id)));
  const person = document.createElement("select");
  person.setAttribute("aria-label", t("console.invite_person"));
  person.setAttribute("data-testid", "invite-person");
  const fillPeople = () => {
    const chosen = organisations.find((o) => o.id === org.value);
    person.replaceChildren(
      new Option(t("console.invite_anyone"), ""),
      ...(chosen?.staff ?? []).map((s) => new Option([s.display_name, s.title].filter(Boolean).join(", "), s.id)),
    );
  };
  org.addEventListener("change", fillPeople);
  fillPeople();
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "button primary";
  submit.textContent = t("console.invite_send");
  submit.setAttribute("data-testid", "invite-send");
  form.append(org, person, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(`/console/consultations/${consultationId}/invitations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ organisation_id: org.value, invitee_user_id: person.value }),
    });
    const body = await response.json();
    if (!response.ok) return onError(`${body.detail} (${body.code})`);
    onInvited(body.url);
  });
  return form;
}

// The new invitation's link, shown until the page is left: a visible label, the whole link on
// its own lines, and a button that copies it.
export function inviteLink(url, id = "invite-link") {
  const box = document.createElement("div");
  box.className = "invite-link";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = t("console.invite_link");
  const link = document.createElement("textarea"); // wraps: the whole link is always in view
  link.id = id;
  link.rows = 3;
  link.readOnly = true;
  link.value = url;
  link.setAttribute("data-testid", "invite-link");
  link.addEventListener("focus", () => link.select());
  const copied = document.createElement("span");
  copied.setAttribute("role", "status");
  copied.setAttribute("data-testid", "invite-copied");
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "button";
  copy.textContent = t("console.invite_copy");
  copy.setAttribute("data-testid", "invite-copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      link.select(); // the browser refused: the link is selected for Ctrl+C instead
      copied.textContent = t("console.invite_copy_manual");
      return;
    }
    copied.textContent = t("console.invite_copied");
  });
  box.append(label, link, copy, copied);
  return box;
}
