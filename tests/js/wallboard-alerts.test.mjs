// When the wallboard's alerts notify (static/js/wallboard-alerts.js): once when an alert appears
// or gets worse, never again for the same alert, not when it clears, again when it comes back.
import assert from "node:assert/strict";
import { test } from "node:test";

import { alertText, alertTransitions, WallboardAlerts } from "../../static/js/wallboard-alerts.js";

const queue = (alerts, fields = {}) => ({ queue: "630", name: "Satış", alerts, ...fields });
const message = (queues, fields = {}) => ({ type: "wallboard", stale: false, queues, ...fields });
const waiting = (level) => ({ figure: "waiting", level, threshold: level === "red" ? 5 : 3 });

/** WallboardAlerts with a notification and a sound that only count. */
function counted({ sound = false } = {}) {
  const notified = [];
  const played = [];
  const stored = new Map(sound ? [["telsam.wallboard.sound", "on"]] : []);
  const alerts = new WallboardAlerts({
    soundButton: null,
    notify: (title, options) => notified.push({ title, ...options }),
    play: (level) => played.push(level),
    storage: {
      getItem: (key) => stored.get(key) ?? null,
      setItem: (key, value) => stored.set(key, value),
      removeItem: (key) => stored.delete(key),
    },
  });
  return { alerts, notified, played };
}

test("a new alert notifies once, naming the queue, the level and the figure", () => {
  const { alerts, notified } = counted();
  alerts.consider(message([queue([waiting("amber")])]));
  assert.deepEqual(notified, [
    { title: "Warning: Satış", body: "Waiting ≥ 3", tag: "wallboard-630-waiting" },
  ]);
});

test("the same alert in the next message does not notify again", () => {
  const { alerts, notified } = counted();
  alerts.consider(message([queue([waiting("amber")])]));
  alerts.consider(message([queue([waiting("amber")])]));
  alerts.consider(message([queue([waiting("amber")])]));
  assert.equal(notified.length, 1);
});

test("an alert getting worse notifies again; getting better does not", () => {
  const { alerts, notified } = counted();
  alerts.consider(message([queue([waiting("amber")])]));
  alerts.consider(message([queue([waiting("red")])]));
  assert.equal(notified.length, 2);
  assert.equal(notified[1].title, "Alert: Satış");
  alerts.consider(message([queue([waiting("amber")])]));
  assert.equal(notified.length, 2);
});

test("a cleared alert does not notify, and is marked cleared", () => {
  const { alerts, notified } = counted();
  alerts.consider(message([queue([waiting("red")])]));
  const changes = alerts.consider(message([queue([])]));
  assert.equal(notified.length, 1);
  assert.deepEqual(changes.cleared, ["630 waiting"]);
  assert.equal(changes.levels.size, 0);
});

test("an alert that comes back after clearing notifies again", () => {
  const { alerts, notified } = counted();
  alerts.consider(message([queue([waiting("amber")])]));
  alerts.consider(message([queue([])]));
  alerts.consider(message([queue([waiting("amber")])]));
  assert.equal(notified.length, 2);
});

test("each queue and figure is its own alert", () => {
  const { alerts, notified } = counted();
  const longest = { figure: "longest_wait", level: "amber", threshold: 30 };
  alerts.consider(message([queue([waiting("amber")])]));
  alerts.consider(message([queue([waiting("amber"), longest]), queue([waiting("amber")], { queue: "631", name: "" })]));
  assert.deepEqual(
    notified.map((n) => [n.title, n.body]),
    [
      ["Warning: Satış", "Waiting ≥ 3"],
      ["Warning: Satış", "Longest wait ≥ 0:30"],
      ["Warning: Queue 631", "Waiting ≥ 3"],
    ],
  );
});

test("a stale message changes nothing: an outage neither raises nor clears an alert", () => {
  const { alerts, notified } = counted();
  alerts.consider(message([queue([waiting("amber")])]));
  const changes = alerts.consider(message([queue([])], { stale: true }));
  assert.deepEqual(changes.cleared, []);
  alerts.consider(message([queue([waiting("amber")])]));
  assert.equal(notified.length, 1);
});

test("the sound plays only when switched on, once per message, at the worst level raised", () => {
  const quiet = counted();
  quiet.alerts.consider(message([queue([waiting("red")])]));
  assert.deepEqual(quiet.played, []);
  const loud = counted({ sound: true });
  const longest = { figure: "longest_wait", level: "amber", threshold: 30 };
  loud.alerts.consider(message([queue([longest, waiting("red")])]));
  loud.alerts.consider(message([queue([longest, waiting("red")])]));
  assert.deepEqual(loud.played, ["red"]);
});

test("the transitions are pure: the levels before are left as they were", () => {
  const before = new Map([["630 waiting", "amber"]]);
  const { levels, raised } = alertTransitions(before, message([queue([waiting("red")])]));
  assert.equal(before.get("630 waiting"), "amber");
  assert.equal(levels.get("630 waiting"), "red");
  assert.equal(raised.length, 1);
});

test("each figure's alert has its words", () => {
  assert.equal(alertText({ figure: "service_level", level: "red", threshold: 70 }), "Service level < %70");
  assert.equal(alertText({ figure: "longest_wait", level: "red", threshold: 90 }), "Longest wait ≥ 1:30");
  assert.equal(alertText({ figure: "something_new", level: "red", threshold: 1 }), "something_new");
});
