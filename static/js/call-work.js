// A call's work in its screen-pop (or, for a call without one, under its row in the calls table): a
// note that saves as the agent types and a wrap-up code, and, once the call has ended, the
// wrap-up's "Save" (docs/call-work.md, "In the panel").

import { csrfToken, el, formatClock, gettext, interpolate } from "./format.js";

const NOTE_DELAY_MS = 1000;
const COLOUR = /^#[0-9a-f]{6}$/i;
let cards = 0; // for the fields' ids, unique in the page

/** A call's work URL: the panel's `workUrl` has 32 zeros where the call's key goes. */
export function workUrlOf(template, key) {
  return template.replace("0".repeat(32), key);
}

/** The fields of `draft` whose value the server does not have yet (`saved`). */
export function changedFields(saved, draft) {
  const changed = {};
  for (const name of Object.keys(draft)) {
    if (draft[name] !== saved[name]) changed[name] = draft[name];
  }
  return changed;
}

/**
 * What of a call's work still has to reach the server, sent one save at a time.
 *
 * Pure (no DOM, no fetch: `send(fields)` makes the request and resolves to `{ok: true, data}` or
 * `{ok: false, error}`; the timers can be replaced), so its rules are unit-tested in Node. A failed
 * save changes nothing of the draft: the next keystroke, blur or flush sends it again.
 */
export class WorkSaver {
  constructor({ send, onStatus = () => {}, delayMs = NOTE_DELAY_MS, timers = globalThis }) {
    this.send = send;
    this.onStatus = onStatus;
    this.delayMs = delayMs;
    this.timers = timers;
    this.saved = { note: "", wrap_up: "" };
    this.draft = { note: "", wrap_up: "" };
    this.timer = null;
    // Saves run one after the other: two in flight could arrive in the wrong order.
    this.queue = Promise.resolve(true);
  }

  /** What the server has (its GET or a save's answer). */
  loaded(fields) {
    this.saved = { ...fields };
    this.draft = { ...fields };
  }

  get dirty() {
    return Object.keys(changedFields(this.saved, this.draft)).length > 0;
  }

  /** The agent typed: the note goes once they have stopped for `delayMs`. */
  typed(note) {
    this.draft.note = note;
    this.cancel();
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.delayMs);
  }

  /** A code was picked: it goes at once, with the note if that has changed too. */
  picked(code) {
    this.draft.wrap_up = code;
    return this.flush();
  }

  /**
   * Send whatever has changed now (a blur, the call's end, the card closing); `extra` fields (the
   * wrap-up's `finish`) go along. Resolves to true when the server took everything.
   */
  flush(extra = null) {
    this.cancel();
    const run = () => this.saveNow(extra);
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  async saveNow(extra) {
    const fields = { ...changedFields(this.saved, this.draft), ...(extra || {}) };
    if (Object.keys(fields).length === 0) return true;
    this.onStatus({ state: "saving" });
    let answer;
    try {
      answer = await this.send(fields);
    } catch (error) {
      answer = { ok: false, error: String(error && error.message ? error.message : error) };
    }
    if (!answer.ok) {
      this.onStatus({ state: "error", error: answer.error });
      return false;
    }
    for (const name of Object.keys(this.saved)) if (name in fields) this.saved[name] = fields[name];
    this.onStatus({ state: "saved", data: answer.data });
    return true;
  }

  cancel() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  stop() {
    this.cancel();
  }
}

/** The saved code's id as the select holds it ("" for none). */
function codeValue(data) {
  return data.wrap_up ? String(data.wrap_up.id) : "";
}

/** The note and code section of one call's pop card (or of its row in the calls table). */
export class CallWork {
  /**
   * @param {object} options
   * @param {string} options.url        this call's /calls/<key>/work/
   * @param {() => void} [options.onFinished]  the wrap-up was saved: the card may close
   */
  constructor(options) {
    this.options = options;
    // Settable: a row's note moves into a wrap-up card when its call ends (ScreenPops.adoptWrapUp).
    this.onFinished = options.onFinished || (() => {});
    this.element = el("section", "pop-work");
    this.saver = new WorkSaver({
      send: (fields) => this.post(fields),
      onStatus: (status) => this.showStatus(status),
    });
    this.codes = new Map(); // id → code
    this.mayWrite = false; // until the server says otherwise
    this.ended = false;
    this.render();
  }

  render() {
    const id = `work-${++cards}`;
    const noteLabel = el("label", "work-label work-note-label", gettext("Note"));
    noteLabel.htmlFor = `${id}-note`;
    this.note = el("textarea", "work-note");
    this.note.id = `${id}-note`;
    this.note.rows = 3;
    this.note.maxLength = 5000;
    this.note.disabled = true; // until what is saved has loaded: typing first would overwrite it
    this.note.addEventListener("input", () => this.saver.typed(this.note.value));
    this.note.addEventListener("blur", () => this.saver.flush());

    this.codeLabel = el("label", "work-label work-code-label", gettext("Wrap-up code"));
    this.codeLabel.htmlFor = `${id}-code`;
    this.code = el("select", "work-code");
    this.code.id = `${id}-code`;
    this.code.disabled = true;
    this.code.addEventListener("change", () => {
      this.showColour();
      this.saver.picked(this.code.value);
    });
    this.swatch = el("span", "work-swatch");
    this.swatch.setAttribute("aria-hidden", "true");
    const codeRow = el("div", "work-code-row");
    codeRow.append(this.swatch, this.code);

    this.status = el("p", "work-status", gettext("Loading…"));
    // The pops' region is assertive (a call!); a save is not news.
    this.status.setAttribute("aria-live", "polite");
    this.finishButton = el("button", "work-finish", gettext("Save"));
    this.finishButton.type = "button";
    this.finishButton.hidden = true;
    this.finishButton.addEventListener("click", () => this.finish());
    this.element.append(noteLabel, this.note, this.codeLabel, codeRow);
    this.element.append(this.status, this.finishButton);
  }

  async start() {
    const answer = await this.request({});
    if (answer.ok) this.show(answer.data);
    else this.setStatus(interpolate(gettext("Could not load the note: %s"), [answer.error]), "error");
  }

  stop() {
    this.saver.stop();
  }

  /** The server's work: fields filled, codes listed, read-only unless this user may write. */
  show(data) {
    this.codes = new Map(data.codes.map((code) => [String(code.id), code]));
    const none = el("option", null, "—");
    none.value = "";
    const options = [none, ...data.codes.map((code) => codeOption(code))];
    // A code no longer active still shows on the call that carries it.
    if (data.wrap_up && !this.codes.has(codeValue(data))) {
      this.codes.set(codeValue(data), data.wrap_up);
      options.push(codeOption(data.wrap_up));
    }
    this.code.replaceChildren(...options);
    this.note.value = data.note;
    this.code.value = codeValue(data);
    this.saver.loaded({ note: data.note, wrap_up: codeValue(data) });
    this.mayWrite = data.may_write;
    this.note.disabled = false;
    this.note.readOnly = !data.may_write;
    this.code.disabled = !data.may_write;
    this.finishButton.hidden = !(this.ended && this.mayWrite);
    if (data.code_required) this.codeLabel.textContent = gettext("Wrap-up code (required)");
    this.showColour();
    this.showSaved(data);
  }

  showColour() {
    const code = this.codes.get(this.code.value);
    const colour = code && COLOUR.test(code.colour) ? code.colour : "";
    this.swatch.hidden = !colour;
    this.swatch.style.backgroundColor = colour;
    this.code.style.borderLeftColor = colour;
  }

  showStatus(status) {
    if (status.state === "saving") this.setStatus(gettext("Saving…"), "progress");
    else if (status.state === "error") this.setStatus(status.error, "error");
    else this.showSaved(status.data);
  }

  showSaved(data) {
    let text = "";
    if (data.author && data.changed_at) {
      const when = formatClock(Date.parse(data.changed_at));
      text = interpolate(gettext("Saved · %s %s"), [data.author, when]);
    }
    if (!data.may_write) text = text ? `${text} · ${gettext("read only")}` : gettext("Read only");
    this.setStatus(text, "ok");
  }

  setStatus(text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  /** The call has ended: a half-typed note goes at once, and the wrap-up's Save appears. */
  callEnded() {
    const saved = this.saver.flush();
    this.ended = true;
    this.finishButton.hidden = !this.mayWrite;
    return saved;
  }

  /** Whether a wrap-up card is any use: only to someone who may write this call's work. */
  get wantsWrapUp() {
    return this.mayWrite;
  }

  /** The wrap-up is done: note and code saved with `finish`; the card closes when it took. */
  async finish() {
    this.finishButton.disabled = true;
    const done = await this.saver.flush({ wrap_up: this.code.value, finish: "1" });
    this.finishButton.disabled = false;
    if (done) this.onFinished();
  }

  /** Send the agent to the note (while it loads it is disabled, and the focus stays put). */
  focus() {
    this.note.focus();
  }

  /** The card is closing: whatever was typed is saved first. */
  close() {
    const saved = this.saver.flush();
    this.stop();
    return saved;
  }

  post(fields) {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    return this.request({ method: "POST", body, headers: { "X-CSRFToken": csrfToken() } });
  }

  /** The work URL asked → `{ok: true, data}`, or `{ok: false, error}` in words for the agent. */
  async request(init) {
    let response;
    try {
      response = await fetch(this.options.url, {
        ...init,
        credentials: "same-origin",
        headers: { ...init.headers, Accept: "application/json" },
      });
    } catch {
      return { ok: false, error: gettext("The server could not be reached. Try again.") };
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok && data.ok) return { ok: true, data };
    const fallback = interpolate(gettext("Failed (HTTP %s)."), [response.status]);
    return { ok: false, error: data.error || fallback };
  }
}

function codeOption(code) {
  const option = el("option", null, code.name);
  option.value = String(code.id);
  return option;
}

