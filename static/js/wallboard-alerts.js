// The wallboard's queue alerts, on the board and on a supervisor's panel: what an alert is called,
// and when it is worth a notification (and a sound, for those who switched it on). The server
// decides when a figure is past its threshold (docs/wallboard-setup.md); this module only notices
// the moments an alert appears or gets worse, so a red queue does not ring on every poll.

import { formatDuration, gettext, interpolate, pageLanguage } from "./format.js";
import { notify } from "./notifications.js";

const RANK = { ok: 0, amber: 1, red: 2 };
const SOUND_KEY = "telsam.wallboard.sound";

/** "Alert" or "Warning", the word that goes with the colour (never colour alone). */
export function levelWord(level) {
  if (level === "red") return gettext("Alert");
  if (level === "amber") return gettext("Warning");
  return "";
}

/** 83.3 → "%83" in Turkish, "83%" in English. */
export function formatPercent(value) {
  return (value / 100).toLocaleString(pageLanguage(), { style: "percent", maximumFractionDigits: 0 });
}

/** Which figure crossed which threshold: "Waiting ≥ 3", "Longest wait ≥ 0:30", … */
export function alertText(alert) {
  if (alert.figure === "waiting") return interpolate(gettext("Waiting ≥ %s"), [alert.threshold]);
  if (alert.figure === "longest_wait") {
    return interpolate(gettext("Longest wait ≥ %s"), [formatDuration(alert.threshold)]);
  }
  if (alert.figure === "service_level") {
    return interpolate(gettext("Service level < %s"), [formatPercent(alert.threshold)]);
  }
  return alert.figure; // a figure this page does not know yet: its name beats nothing
}

/** A queue's title: its label, or "Queue 630"; the total row "All queues". */
export function queueTitle(queue) {
  if (queue.queue === null || queue.queue === undefined) return gettext("All queues");
  return queue.name || interpolate(gettext("Queue %s"), [queue.queue]);
}

/**
 * What one message changes in the alerts shown: `levels` maps "queue figure" to its level in the
 * message before (start with an empty Map). Returns the new levels, the alerts `raised` (new, or
 * worse than before: each once) and the keys `cleared`. A stale message (the PBX not answering)
 * changes nothing: its figures are the last good ones, and an outage is not a queue's alert.
 */
export function alertTransitions(levels, message) {
  if (message.stale) return { levels, raised: [], cleared: [] };
  const next = new Map();
  const raised = [];
  for (const queue of message.queues || []) {
    for (const alert of queue.alerts || []) {
      const key = `${queue.queue} ${alert.figure}`;
      next.set(key, alert.level);
      const before = levels.has(key) ? RANK[levels.get(key)] : RANK.ok;
      if (RANK[alert.level] > before) raised.push({ queue, alert });
    }
  }
  const cleared = [...levels.keys()].filter((key) => !next.has(key));
  return { levels: next, raised, cleared };
}

/** A wallboard message's PBX state, as the live connection reads it (the board carries it in
 * its own fields, docs/websocket-protocol.md). */
export function boardPbx(message) {
  return { ok: message.pbx_ok, last_ok_at: message.last_ok_at, error: null, reason: null };
}

/** Notifications and the sound for the alerts raised by each message the socket brings. */
export class WallboardAlerts {
  /**
   * @param {object} options
   * @param {HTMLButtonElement|null} options.soundButton  the sound on/off toggle (aria-pressed)
   * @param {(title: string, options: object) => void} [options.notify]  a browser notification
   * @param {(level: string) => void} [options.play]  the sound
   * @param {Storage} [options.storage]  where the sound choice is remembered
   */
  constructor(options) {
    this.levels = new Map();
    this.notify = options.notify || notify;
    this.play = options.play || ((level) => this.beep(level));
    this.storage = options.storage || globalThis.localStorage;
    this.button = options.soundButton || null;
    this.audio = null;
    if (this.button) {
      this.button.hidden = false;
      this.button.addEventListener("click", () => this.setSound(!this.soundOn()));
      this.showSound();
    }
  }

  soundOn() {
    return Boolean(this.storage) && this.storage.getItem(SOUND_KEY) === "on";
  }

  setSound(on) {
    if (on) this.storage.setItem(SOUND_KEY, "on");
    else this.storage.removeItem(SOUND_KEY);
    // Browsers start audio only from a click: this one opens the context the alerts will use.
    if (on) this.play("amber");
    this.showSound();
  }

  showSound() {
    const on = this.soundOn();
    this.button.setAttribute("aria-pressed", String(on));
    this.button.textContent = on ? gettext("Sound on") : gettext("Sound off");
  }

  /** Take the next wallboard message; returns what changed (for the tests and the curious). */
  consider(message) {
    const changes = alertTransitions(this.levels, message);
    this.levels = changes.levels;
    for (const { queue, alert } of changes.raised) {
      this.notify(interpolate(gettext("%s: %s"), [levelWord(alert.level), queueTitle(queue)]), {
        body: alertText(alert),
        // One notification per queue and figure: a worse one replaces the one before.
        tag: `wallboard-${queue.queue}-${alert.figure}`,
      });
    }
    if (changes.raised.length && this.soundOn()) {
      const worst = changes.raised.some(({ alert }) => alert.level === "red") ? "red" : "amber";
      this.play(worst);
    }
    return changes;
  }

  /** A short tone, no sound file: one beep for a warning, two higher ones for an alert. */
  beep(level) {
    const Context = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Context) return;
    this.audio = this.audio || new Context();
    if (this.audio.state === "suspended") this.audio.resume();
    const beeps = level === "red" ? [0, 0.3] : [0];
    for (const offset of beeps) {
      const oscillator = this.audio.createOscillator();
      const gain = this.audio.createGain();
      const start = this.audio.currentTime + offset;
      oscillator.frequency.value = level === "red" ? 880 : 660;
      gain.gain.setValueAtTime(0.2, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.25);
      oscillator.connect(gain).connect(this.audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.25);
    }
  }
}
