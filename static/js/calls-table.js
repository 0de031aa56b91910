// The live calls table. Every row, first render or update, is drawn by `renderRow`. A call's note
// (call-work.js) can open in a row of its own under the call's row: calls without a screen-pop have
// nowhere else to write one.

import { el, formatDuration, gettext, interpolate } from "./format.js";

const DIRECTION_LABELS = {
  in: gettext("Incoming"),
  out: gettext("Outgoing"),
  internal: gettext("Internal"),
};
const CUE_MS = 1600;
const LEAVE_MS = 700;

export class CallsTable {
  /**
   * @param {object} options
   * @param {HTMLTableSectionElement} options.body
   * @param {HTMLElement} options.empty      shown when there are no calls
   * @param {(count: number) => void} options.onCount
   * @param {boolean} options.canHangup
   * @param {(call: object) => void} options.onHangup
   * @param {() => number} options.now       server time in ms
   * @param {boolean} [options.canWriteWork]  rows of calls with a key get a "Note" button
   * @param {(call: object) => object} [options.newWork]  a CallWork for the call (call-work.js)
   * @param {(channel: string) => boolean} [options.focusCard]  sends the focus to this tab's pop
   *   card of the call, if it shows one (true): one call, one editor
   * @param {(call: object, work: object) => void} [options.onWorkEnded]  the call of an open
   *   editor ended: its work goes on elsewhere (a wrap-up card), typed text and all
   */
  constructor(options) {
    this.options = options;
    this.rows = new Map(); // channel → <tr>
    this.calls = new Map(); // channel → Call
    this.editors = new Map(); // channel → {row: <tr class="work-row">, work: CallWork}
    this.ticker = null;
  }

  /** Durations tick every second from here on. */
  start() {
    if (this.ticker === null) this.ticker = setInterval(() => this.tick(), 1000);
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = null;
  }

  /** Replace everything with a snapshot (no cues: nothing "arrived", we just caught up). */
  setAll(calls) {
    const fresh = new Set(calls.map((call) => call.channel));
    for (const channel of [...this.rows.keys()]) {
      if (!fresh.has(channel)) this.forget(channel);
    }
    for (const call of calls) this.upsert(call, null);
    this.update();
  }

  apply(diff) {
    for (const call of diff.added) this.upsert(call, "is-new");
    for (const call of diff.changed) this.upsert(call, "is-changed");
    for (const channel of diff.removed) this.leave(channel);
    this.update();
  }

  has(channel) {
    return this.calls.has(channel);
  }

  upsert(call, cue) {
    let row = this.rows.get(call.channel);
    if (!row) {
      row = document.createElement("tr");
      row.className = "call-row";
      this.rows.set(call.channel, row);
      this.options.body.append(row);
    }
    row.classList.remove("is-leaving");
    this.calls.set(call.channel, call);
    this.renderRow(row, call);
    if (cue) {
      row.classList.remove("is-new", "is-changed");
      void row.offsetWidth; // restart the animation
      row.classList.add(cue);
      setTimeout(() => row.classList.remove(cue), CUE_MS);
    }
  }

  leave(channel) {
    const row = this.rows.get(channel);
    if (!row) return;
    this.endWork(channel);
    this.calls.delete(channel);
    row.classList.add("is-leaving");
    row.querySelectorAll("button").forEach((button) => (button.disabled = true));
    setTimeout(() => {
      if (!this.calls.has(channel)) this.forget(channel);
      this.update();
    }, LEAVE_MS);
  }

  forget(channel) {
    this.endWork(channel); // a snapshot without the call: it ended while we were away
    const row = this.rows.get(channel);
    if (row) row.remove();
    this.rows.delete(channel);
    this.calls.delete(channel);
  }

  /** The one place a call becomes a table row. */
  renderRow(row, call) {
    const ringing = call.ringing === true; // decided by the server (docs/websocket-protocol.md)
    row.dataset.channel = call.channel;
    row.dataset.direction = call.direction;
    row.classList.toggle("is-ringing", ringing);

    const caller = el("td", "col-caller");
    caller.append(el("span", "number", call.src_display));

    const customer = el("td", "col-customer");
    if (call.customer) {
      const link = el("a", "customer-name", call.customer.name);
      link.href = call.customer.url;
      customer.append(link);
      if (call.customer.company) customer.append(el("span", "company", call.customer.company));
      if (call.customer.more > 0) {
        customer.append(el("span", "more", interpolate(gettext("+%s more"), [call.customer.more])));
      }
    } else if (call.direction === "internal") {
      customer.append(el("span", "muted", "—"));
    } else {
      const unknown = call.direction === "out" ? gettext("Unknown number") : gettext("Unknown caller");
      customer.append(el("span", "unknown", unknown));
    }

    const state = el("td", "col-state");
    state.append(el("span", ringing ? "state-badge ringing" : "state-badge", call.callinfo || "—"));

    const duration = el("td", "col-duration");
    duration.dataset.startedAt = String(Date.parse(call.started_at));
    duration.textContent = this.elapsed(duration);

    const cells = [
      caller,
      customer,
      el("td", "col-callee", call.dst_display),
      el("td", "col-queue", call.queue || "—"),
      state,
      el("td", "col-direction", DIRECTION_LABELS[call.direction] || call.direction),
      duration,
    ];
    if (this.options.canHangup || this.options.canWriteWork) {
      const actions = el("td", "col-actions");
      // The work endpoint knows a call by its key; a call without one has nowhere to save a note.
      if (this.options.canWriteWork && call.key) {
        const note = el("button", "row-note", gettext("Note"));
        note.type = "button";
        const label = interpolate(gettext("Note on the call from %s"), [call.src_display]);
        note.setAttribute("aria-label", label);
        note.setAttribute("aria-expanded", String(this.editors.has(call.channel)));
        note.addEventListener("click", () => this.toggleWork(call.channel));
        actions.append(note);
      }
      if (this.options.canHangup) {
        const button = el("button", "hangup", gettext("Hang up"));
        button.type = "button";
        button.setAttribute(
          "aria-label",
          interpolate(gettext("Hang up the call from %s"), [call.src_display]),
        );
        button.addEventListener("click", () => this.options.onHangup(this.calls.get(call.channel)));
        actions.append(button);
      }
      cells.push(actions);
    }
    row.replaceChildren(...cells);
  }

  /** The row's Note button: opens the call's note under its row, or closes it again. */
  toggleWork(channel) {
    if (this.editors.has(channel)) this.closeWork(channel);
    else if (!(this.options.focusCard && this.options.focusCard(channel))) this.openWork(channel);
  }

  /**
   * The note in a `<tr>` of its own right after the call's row, not inside it: the call's row is
   * redrawn on every change of the call, and would take the half-typed note with it.
   */
  openWork(channel) {
    const call = this.calls.get(channel);
    const work = this.options.newWork(call);
    const row = document.createElement("tr");
    row.className = "work-row";
    row.dataset.channel = channel;
    const cell = el("td", "work-cell");
    cell.colSpan = this.rows.get(channel).children.length;
    const body = el("div", "work-row-body");
    const close = el("button", "work-close", "×");
    close.type = "button";
    const label = interpolate(gettext("Close the note on the call from %s"), [call.src_display]);
    close.setAttribute("aria-label", label);
    close.addEventListener("click", () => {
      this.closeWork(channel);
      this.noteButton(channel)?.focus(); // not lost to the page with the removed button
    });
    body.append(work.element, close);
    cell.append(body);
    row.append(cell);
    this.editors.set(channel, { row, work });
    this.rows.get(channel).after(row);
    this.showExpanded(channel);
    work.start().then(() => {
      if (this.editors.get(channel)?.work === work) work.focus();
    });
  }

  /** Close the call's note; whatever was typed is saved first. */
  closeWork(channel) {
    const editor = this.editors.get(channel);
    if (!editor) return;
    this.editors.delete(channel);
    editor.work.close();
    editor.row.remove();
    this.showExpanded(channel);
  }

  /** Close every open note (the user may no longer see live calls). */
  closeAllWork() {
    for (const channel of [...this.editors.keys()]) this.closeWork(channel);
  }

  /** The call ended with its note open: the work is handed on (`onWorkEnded`), never dropped. */
  endWork(channel) {
    const editor = this.editors.get(channel);
    if (!editor) return;
    this.editors.delete(channel);
    this.options.onWorkEnded(this.calls.get(channel), editor.work);
    editor.row.remove();
  }

  noteButton(channel) {
    const row = this.rows.get(channel);
    return row ? row.querySelector("button.row-note") : null;
  }

  showExpanded(channel) {
    const button = this.noteButton(channel);
    if (button) button.setAttribute("aria-expanded", String(this.editors.has(channel)));
  }

  elapsed(cell) {
    return formatDuration((this.options.now() - Number(cell.dataset.startedAt)) / 1000);
  }

  tick() {
    for (const cell of this.options.body.querySelectorAll(".col-duration")) {
      cell.textContent = this.elapsed(cell);
    }
  }

  /**
   * Ringing calls first, then the longest-running, each open note right under its call; the
   * count; the empty state.
   */
  update() {
    const sorted = orderCalls(this.calls.values()).map((call) => this.rows.get(call.channel));
    const leaving = [...this.rows.values()].filter((row) => !sorted.includes(row));
    const wanted = [...sorted, ...leaving].flatMap((row) => {
      const editor = this.editors.get(row.dataset.channel);
      return editor ? [row, editor.row] : [row];
    });
    // Rows move only where out of place. A moved note loses the focus of the agent typing in it,
    // so it is given back (the blur on the way has only saved the note early).
    const { body } = this.options;
    const focused = document.activeElement;
    wanted.forEach((row, i) => {
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
    });
    if (focused && focused !== document.activeElement && body.contains(focused)) focused.focus();
    this.options.empty.hidden = this.calls.size > 0;
    this.options.onCount(this.calls.size);
  }
}

/** The table's order: ringing calls first, then the longest-running (earliest start) first. */
export function orderCalls(calls) {
  return [...calls].sort((a, b) => {
    const ring = Number(b.ringing === true) - Number(a.ringing === true);
    return ring || Date.parse(a.started_at) - Date.parse(b.started_at);
  });
}
