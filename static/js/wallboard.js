// The wallboard (docs/wallboard-setup.md): a tile per queue and for the total, a small tile per
// extension, drawn from the `wallboard` message (docs/websocket-protocol.md). The server counts;
// the page only words the figures and ticks the clocks between two messages. The pure parts
// (`queueTile`, `extensionTile`, `staleLine`) are unit-tested; `Wallboard` writes them into tiles
// built once per queue or extension, so a tick touches only the text that changed.

import { el, formatClock, formatDuration, formatSpan, gettext, interpolate } from "./format.js";
import { alertText, formatPercent, levelWord, queueTitle } from "./wallboard-alerts.js";

const NONE = "—";

/** Seconds from an ISO time to `nowMs`, or null without a time. */
export function secondsSince(iso, nowMs) {
  return iso ? Math.max(0, (nowMs - Date.parse(iso)) / 1000) : null;
}

function seconds(value) {
  return value === null || value === undefined ? NONE : formatDuration(value);
}

/** A queue (or the total) → the texts of its tile. */
export function queueTile(queue, nowMs) {
  const alerts = queue.alerts || [];
  const level = queue.level || "ok";
  const waitingFor = secondsSince(queue.longest_waiting_since, nowMs);
  return {
    key: queue.queue === null || queue.queue === undefined ? "total" : `q${queue.queue}`,
    title: queueTitle(queue),
    level,
    // The word and the figure, not only the colour: readable by all, and from the back row.
    status: alerts.length ? [levelWord(level), ...alerts.map(alertText)].join(" · ") : "",
    waiting: String(queue.waiting),
    waitingFor: waitingFor === null ? NONE : formatDuration(waitingFor),
    talking: String(queue.talking),
    offered: String(queue.offered),
    answered: String(queue.answered),
    abandoned: String(queue.abandoned),
    serviceLevel: queue.service_level === null ? NONE : formatPercent(queue.service_level),
    serviceLevelThreshold: `(${formatSpan(queue.sl_seconds)})`,
    averageWait: seconds(queue.average_wait),
    longestWait: seconds(queue.longest_wait),
    corrected: queue.corrected_at
      ? interpolate(gettext("corrected by the call records at %s"), [
          formatClock(Date.parse(queue.corrected_at)),
        ])
      : "",
  };
}

const STATE_WORDS = {
  free: () => gettext("Free"),
  ringing: () => gettext("Ringing"),
  dialling: () => gettext("Dialling"),
  talking: () => gettext("Talking"),
};

/**
 * An extension's talk time today at `nowMs`: the talk up to `talk_since`, and a second a second
 * for each call it talks on now (docs/wallboard.md), so the tile ticks between polls.
 */
export function talkToday(extension, nowMs) {
  const running = secondsSince(extension.talk_since, nowMs);
  return (extension.talk_seconds || 0) + (running === null ? 0 : running * (extension.talk_calls || 0));
}

/** An extension → the texts of its tile. */
export function extensionTile(extension, nowMs) {
  const state = Object.hasOwn(STATE_WORDS, extension.state) ? extension.state : "free";
  const since = secondsSince(extension.since, nowMs);
  let timer = "";
  if (since !== null) {
    // Free for a while reads in minutes; a call's length ticks, as on the panel.
    timer = state === "free" ? formatSpan(since) : formatDuration(since);
  }
  return {
    key: extension.extension,
    extension: extension.extension,
    name: extension.name || "",
    state,
    stateWord: STATE_WORDS[state](),
    timer,
    who: state === "free" ? "" : extension.customer || extension.party_display || "",
    today: interpolate(gettext("%s answered · %s"), [
      extension.answered,
      formatDuration(talkToday(extension, nowMs)),
    ]),
  };
}

/** The line over a stale board: "PBX not answering · last data 14:05 (2 min ago)", or "". */
export function staleLine(message, nowMs) {
  if (!message.stale) return "";
  if (!message.last_ok_at) return gettext("PBX not answering · no data yet");
  const lastOk = Date.parse(message.last_ok_at);
  return interpolate(gettext("PBX not answering · last data %s (%s ago)"), [
    formatClock(lastOk),
    formatSpan((nowMs - lastOk) / 1000),
  ]);
}

/** Extensions in the order people count them: 99 before 110. */
export function orderExtensions(extensions) {
  return [...extensions].sort((a, b) =>
    a.extension.localeCompare(b.extension, undefined, { numeric: true }),
  );
}

// How many extension tiles make the board switch to smaller ones (the style sheet's densities).
const DENSE_FROM = 60;
const TINY_FROM = 200;

export class Wallboard {
  /**
   * @param {object} options
   * @param {HTMLElement} options.root        the board: gets data-stale
   * @param {HTMLElement} options.queues      where the queue tiles go
   * @param {HTMLElement} options.extensions  where the extension tiles go
   * @param {HTMLElement} options.stale       the stale line
   * @param {() => number} options.now        the server's clock (ms)
   */
  constructor(options) {
    this.options = options;
    this.message = null;
    this.queueTiles = new Map();
    this.extensionTiles = new Map();
    this.ticker = null;
  }

  start() {
    if (this.ticker === null) this.ticker = setInterval(() => this.draw(), 1000);
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = null;
  }

  show(message) {
    this.message = message;
    this.draw();
  }

  draw() {
    const message = this.message;
    if (!message) return;
    const now = this.options.now();
    const { root, queues, extensions, stale } = this.options;
    root.dataset.stale = String(Boolean(message.stale));
    setText(stale, staleLine(message, now));
    stale.hidden = !message.stale;
    const models = [message.total, ...message.queues].filter(Boolean).map((q) => queueTile(q, now));
    place(queues, this.queueTiles, models, buildQueueTile, fillQueueTile);
    const ordered = orderExtensions(message.extensions || []);
    extensions.dataset.density =
      ordered.length >= TINY_FROM ? "tiny" : ordered.length >= DENSE_FROM ? "dense" : "normal";
    const tiles = ordered.map((extension) => extensionTile(extension, now));
    place(extensions, this.extensionTiles, tiles, buildExtensionTile, fillExtensionTile);
  }
}

/** Keep one tile per model key, in the models' order; tiles of keys gone are removed. */
function place(container, tiles, models, build, fill) {
  const keys = new Set(models.map((model) => model.key));
  for (const [key, tile] of tiles) {
    if (!keys.has(key)) {
      tile.remove();
      tiles.delete(key);
    }
  }
  models.forEach((model, index) => {
    let tile = tiles.get(model.key);
    if (!tile) {
      tile = build();
      tiles.set(model.key, tile);
    }
    fill(tile, model);
    if (container.children[index] !== tile) container.insertBefore(tile, container.children[index] || null);
  });
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function slot(tile, role) {
  return tile.querySelector(`[data-role="${role}"]`);
}

function figure(role, label, className = "figure") {
  const box = el("div", className);
  const value = el("span", "figure-value");
  value.dataset.role = role;
  box.append(value, el("span", "figure-label", label));
  return box;
}

function buildQueueTile() {
  const tile = el("article", "queue-tile");
  const header = el("header", "tile-header");
  const title = el("h2", "tile-title");
  title.dataset.role = "title";
  const status = el("p", "tile-status");
  status.dataset.role = "status";
  header.append(title, status);
  const now = el("div", "tile-now");
  now.append(
    figure("waiting", gettext("Waiting"), "figure figure-main"),
    figure("waitingFor", gettext("Waiting longest")),
    figure("talking", gettext("Talking now")),
  );
  const today = el("div", "tile-today");
  const level = figure("serviceLevel", gettext("Service level"));
  const threshold = el("span", "figure-threshold");
  threshold.dataset.role = "serviceLevelThreshold";
  level.querySelector(".figure-label").append(" ", threshold);
  today.append(
    figure("offered", gettext("Offered today")),
    figure("answered", gettext("Answered")),
    figure("abandoned", gettext("Abandoned")),
    level,
    figure("averageWait", gettext("Average wait")),
    figure("longestWait", gettext("Longest wait")),
  );
  const corrected = el("p", "tile-note");
  corrected.dataset.role = "corrected";
  tile.append(header, now, today, corrected);
  return tile;
}

function fillQueueTile(tile, model) {
  tile.dataset.level = model.level;
  tile.classList.toggle("is-total", model.key === "total");
  for (const role of [
    "title",
    "status",
    "waiting",
    "waitingFor",
    "talking",
    "offered",
    "answered",
    "abandoned",
    "serviceLevel",
    "serviceLevelThreshold",
    "averageWait",
    "longestWait",
    "corrected",
  ]) {
    setText(slot(tile, role), model[role]);
  }
}

function buildExtensionTile() {
  const tile = el("li", "extension-tile");
  for (const role of ["extension", "name", "stateWord", "timer", "who", "today"]) {
    const part = el("span", `extension-${role}`);
    part.dataset.role = role;
    tile.append(part);
  }
  return tile;
}

function fillExtensionTile(tile, model) {
  tile.dataset.state = model.state;
  for (const role of ["extension", "name", "stateWord", "timer", "who", "today"]) {
    setText(slot(tile, role), model[role]);
  }
  // The whole story on hover or for a screen reader, whatever the tile's size lets it show.
  const title = [model.extension, model.name, model.stateWord, model.timer, model.who, model.today]
    .filter(Boolean)
    .join(" · ");
  if (tile.title !== title) tile.title = title;
}
