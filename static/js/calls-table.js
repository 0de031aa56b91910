// The live calls table. Every row, first render or update, is drawn by `renderRow`.

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
   */
  constructor(options) {
    this.options = options;
    this.rows = new Map(); // channel → <tr>
    this.calls = new Map(); // channel → Call
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
    this.calls.delete(channel);
    row.classList.add("is-leaving");
    row.querySelectorAll("button").forEach((button) => (button.disabled = true));
    setTimeout(() => {
      if (!this.calls.has(channel)) this.forget(channel);
      this.update();
    }, LEAVE_MS);
  }

  forget(channel) {
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
    if (this.options.canHangup) {
      const actions = el("td", "col-actions");
      const button = el("button", "hangup", gettext("Hang up"));
      button.type = "button";
      button.setAttribute(
        "aria-label",
        interpolate(gettext("Hang up the call from %s"), [call.src_display]),
      );
      button.addEventListener("click", () => this.options.onHangup(this.calls.get(call.channel)));
      actions.append(button);
      cells.push(actions);
    }
    row.replaceChildren(...cells);
  }

  elapsed(cell) {
    return formatDuration((this.options.now() - Number(cell.dataset.startedAt)) / 1000);
  }

  tick() {
    for (const cell of this.options.body.querySelectorAll(".col-duration")) {
      cell.textContent = this.elapsed(cell);
    }
  }

  /** Ringing calls first, then the longest-running; the count; the empty state. */
  update() {
    const sorted = orderCalls(this.calls.values()).map((call) => this.rows.get(call.channel));
    const leaving = [...this.rows.values()].filter((row) => !sorted.includes(row));
    const current = [...this.options.body.children];
    const wanted = [...sorted, ...leaving];
    if (wanted.some((row, i) => current[i] !== row)) this.options.body.append(...wanted);
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
