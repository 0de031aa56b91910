// Follow-ups ("call back at …", docs/call-work.md): a small form in each screen-pop card that
// sets one, and the reminders: the panel asks every `checkSeconds` for the user's follow-ups that
// are due and shows a card (and a notification, when allowed) for each one it has not shown yet.

import { csrfToken, el, formatWhen, gettext, interpolate } from "./format.js";

const DEFAULT_AHEAD_MS = 60 * 60 * 1000; // the form proposes an hour from now

/** `date` as an ISO local date and time with its offset, to the second: 2026-12-01T15:30:00+03:00. */
export function isoWithOffset(date) {
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

/** The value a datetime-local input shows for `date` (local, to the minute). */
export function localInputValue(date) {
  return isoWithOffset(date).slice(0, 16);
}

export class FollowUps {
  /**
   * @param {object} options
   * @param {HTMLElement} options.container  where reminder cards go (the pops column)
   * @param {object} options.config          the panel's config (followUp… keys, userId)
   */
  constructor(options) {
    this.options = options;
    this.config = options.config;
    this.shown = new Map(); // follow-up id → its reminder card (or null once dismissed)
    this.timer = null;
    this.assignees = null; // a promise of [{id, name}], asked for once
  }

  start() {
    if (!this.config.seesFollowUps || this.timer !== null) return;
    this.check();
    this.timer = setInterval(() => this.check(), this.config.followUpCheckSeconds * 1000);
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const card of this.shown.values()) if (card) card.remove();
    this.shown.clear();
  }

  /** The screen-pop hook: a collapsed "call back" section at the foot of the call's card. Its
   * form is built when it is first opened: most pops never need one, nor the assignee list. */
  attach(card, call) {
    // A call between two extensions has nobody outside to call back (the server refuses it).
    if (!this.config.canSetFollowUp || !call.key || call.direction === "internal") return;
    const details = el("details", "pop-follow-up");
    details.append(el("summary", null, gettext("Call back later")));
    details.addEventListener("toggle", () => this.buildForm(details, call), { once: true });
    card.append(details);
  }

  buildForm(details, call) {
    const form = el("form", "follow-up-form");
    // The server checks the time (in the future, within a year) and says why in words.
    form.noValidate = true;
    const due = el("input");
    due.type = "datetime-local";
    due.name = "due_at";
    due.required = true;
    due.value = localInputValue(new Date(Date.now() + DEFAULT_AHEAD_MS));
    const assignee = el("select");
    assignee.name = "assignee";
    const note = el("input");
    note.name = "note";
    note.maxLength = 300;
    note.placeholder = gettext("Note (optional)");
    const save = el("button", "follow-up-save", gettext("Save follow-up"));
    save.type = "submit";
    const result = el("p", "follow-up-result");
    result.setAttribute("role", "status");
    form.append(
      labelled(gettext("When"), due),
      labelled(gettext("Who calls back"), assignee),
      labelled(gettext("Call-back note"), note),
      save,
      result,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(call, { due, assignee, note, save, result });
    });
    details.append(form);
    this.fillAssignees(assignee);
  }

  async fillAssignees(select) {
    if (!this.assignees) {
      this.assignees = fetchJson(this.config.followUpAssigneesUrl).then((data) => data.assignees);
      this.assignees.catch(() => (this.assignees = null)); // asked again at the next form
    }
    let people;
    try {
      people = await this.assignees;
    } catch {
      people = [{ id: this.config.userId, name: gettext("Me") }];
    }
    select.replaceChildren(
      ...people.map((person) => {
        const option = el("option", null, person.name);
        option.value = String(person.id);
        option.selected = person.id === this.config.userId;
        return option;
      }),
    );
  }

  async save(call, fields) {
    const when = new Date(fields.due.value);
    if (Number.isNaN(when.getTime())) {
      showResult(fields.result, gettext("Give the time to call back as a date and time."), "error");
      return;
    }
    const body = new FormData();
    body.append("due_at", isoWithOffset(when));
    body.append("assignee", fields.assignee.value || String(this.config.userId));
    body.append("note", fields.note.value);
    fields.save.disabled = true;
    try {
      const url = this.config.followUpUrl.replace("0".repeat(32), call.key);
      const data = await postForm(url, body);
      const saved = data.follow_up;
      showResult(
        fields.result,
        interpolate(gettext("Follow-up set for %s (%s)."), [formatWhen(saved.due_at), saved.assignee]),
        "ok",
      );
    } catch (error) {
      // What was typed stays in the form, to be corrected and sent again.
      showResult(fields.result, error.message, "error");
    } finally {
      fields.save.disabled = false;
    }
  }

  async check() {
    let data;
    try {
      data = await fetchJson(this.config.followUpsDueUrl);
    } catch (error) {
      if (error.status === 403) this.stop(); // the role is gone: nothing to remind of
      return; // a failed check is tried again at the next one
    }
    const due = new Set(data.follow_ups.map((followUp) => followUp.id));
    for (const [id, card] of this.shown) {
      // Done elsewhere (another tab, the callbacks page): its card goes.
      if (!due.has(id)) {
        if (card) card.remove();
        this.shown.delete(id);
      }
    }
    for (const followUp of data.follow_ups) {
      if (this.shown.has(followUp.id)) continue;
      this.shown.set(followUp.id, this.remind(followUp));
      notify(followUp);
    }
  }

  remind(followUp) {
    const card = el("article", "pop follow-up-reminder");
    card.dataset.followUp = String(followUp.id);
    const who = followUp.customer
      ? `${followUp.customer} (${followUp.number_display})`
      : followUp.number_display;
    card.setAttribute("aria-label", interpolate(gettext("Time to call back %s"), [who]));
    const title = el("div", "pop-title");
    title.append(
      el("span", "pop-kind", gettext("Time to call back")),
      el("strong", "pop-number", followUp.number_display),
    );
    const header = el("header", "pop-header");
    header.append(title);
    card.append(header);
    if (followUp.customer) card.append(el("p", "pop-name", followUp.customer));
    card.append(el("p", "pop-meta", interpolate(gettext("due %s"), [formatWhen(followUp.due_at)])));
    if (followUp.note) card.append(el("p", "pop-notes", followUp.note));
    const result = el("p", "follow-up-result");
    const actions = el("div", "follow-up-actions");
    const done = el("button", "follow-up-done", gettext("Called back"));
    done.type = "button";
    done.addEventListener("click", () => this.markDone(followUp.id, card, done, result));
    const ok = el("button", "secondary follow-up-ok", gettext("OK"));
    ok.type = "button";
    // Dismissed, not done: it stays on the callbacks page and reminds again after a reload.
    ok.addEventListener("click", () => {
      card.remove();
      this.shown.set(followUp.id, null);
    });
    actions.append(done, ok);
    card.append(actions, result);
    this.options.container.prepend(card);
    return card;
  }

  async markDone(id, card, button, result) {
    button.disabled = true;
    try {
      await postForm(this.config.followUpDoneUrl.replace("/0/", `/${id}/`), new FormData());
      card.remove();
      this.shown.set(id, null);
    } catch (error) {
      showResult(result, error.message, "error");
      button.disabled = false;
    }
  }
}

function labelled(text, control) {
  const label = el("label", "follow-up-field");
  label.append(el("span", null, text), control);
  return label;
}

function showResult(node, text, kind) {
  node.textContent = text;
  node.dataset.kind = kind;
}

async function fetchJson(url) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  return answer(response);
}

async function postForm(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
  } catch {
    throw new Error(gettext("The server could not be reached. Try again."));
  }
  return answer(response);
}

async function answer(response) {
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  const error = new Error(data.error || interpolate(gettext("Failed (HTTP %s)."), [response.status]));
  error.status = response.status;
  throw error;
}


function notify(followUp) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const who = followUp.customer ? `${followUp.customer} · ${followUp.number_display}` : followUp.number_display;
  const notification = new Notification(gettext("Time to call back"), {
    body: followUp.note ? `${who}\n${followUp.note}` : who,
    tag: `follow-up-${followUp.id}`,
  });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
