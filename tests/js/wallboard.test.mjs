// The wallboard's words and figures (the pure parts of static/js/wallboard.js), from the message
// of docs/websocket-protocol.md ("The wallboard socket"). Node has no translation catalogue: the
// words are the English msgids; numbers and times are formatted as on a Turkish page.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  extensionTile,
  talkToday,
  orderExtensions,
  queueTile,
  secondsSince,
  staleLine,
} from "../../static/js/wallboard.js";

// The clock times on the board are in the browser's zone: the call centre's, here.
process.env.TZ = "Europe/Istanbul";
const MESSAGE = JSON.parse(readFileSync(new URL("./wallboard-message.json", import.meta.url)));
const NOW = Date.parse("2026-12-01T10:00:02+03:00");
const [sales, support, unnamed] = MESSAGE.queues;
const extension = (number) => MESSAGE.extensions.find((e) => e.extension === number);

test("a queue's tile gives its figures now and today", () => {
  const tile = queueTile(sales, NOW);
  assert.equal(tile.title, "Satış");
  assert.equal(tile.waiting, "3");
  assert.equal(tile.talking, "1");
  assert.deepEqual([tile.offered, tile.answered, tile.abandoned], ["40", "35", "4"]);
  assert.equal(tile.serviceLevel, "%83");
  assert.equal(tile.serviceLevelThreshold, "(20 s)");
  assert.equal(tile.averageWait, "0:12");
  assert.equal(tile.longestWait, "1:35");
});

test("the longest wait ticks from the moment the call started waiting", () => {
  assert.equal(queueTile(sales, NOW).waitingFor, "0:42");
  assert.equal(queueTile(sales, NOW + 5000).waitingFor, "0:47");
});

test("a tile past a threshold says so in words, the worst level first", () => {
  const tile = queueTile(sales, NOW);
  assert.equal(tile.level, "red");
  assert.equal(tile.status, "Alert · Waiting ≥ 3 · Longest wait ≥ 0:30");
  assert.equal(queueTile(support, NOW).status, "Warning · Service level < %80");
});

test("a quiet queue has no alert words, and dashes where nothing counts yet", () => {
  const tile = queueTile(unnamed, NOW);
  assert.equal(tile.title, "Queue 632");
  assert.equal(tile.level, "ok");
  assert.equal(tile.status, "");
  assert.equal(tile.waitingFor, "—");
  assert.equal(tile.serviceLevel, "—");
  assert.equal(tile.averageWait, "—");
});

test("the total has a tile of its own", () => {
  const tile = queueTile(MESSAGE.total, NOW);
  assert.equal(tile.key, "total");
  assert.equal(tile.title, "All queues");
  assert.equal(tile.serviceLevel, "%77");
});

test("a CDR correction is named with its time", () => {
  assert.match(queueTile(support, NOW).corrected, /^corrected by the call records at 09.55$/);
  assert.equal(queueTile(sales, NOW).corrected, "");
});

test("a talking extension shows with whom, and the call's ticking length", () => {
  const tile = extensionTile(extension("110"), NOW);
  assert.equal(tile.state, "talking");
  assert.equal(tile.stateWord, "Talking");
  assert.equal(tile.who, "Ayşe Yılmaz");
  assert.equal(tile.timer, "2:02");
  // 3,400 s before the call, and the 122 s of the call on the line: it ticks with the timer.
  assert.equal(tile.today, "12 answered · 58:42");
  assert.equal(extensionTile(extension("110"), NOW + 10_000).today, "12 answered · 58:52");
});

test("an extension on two calls at once counts the talk of both", () => {
  const both = { ...extension("110"), talk_calls: 2 };
  assert.equal(talkToday(both, NOW), 3400 + 2 * 122);
  assert.equal(talkToday({ ...extension("112") }, NOW), 1500); // free: nothing runs
});

test("a ringing extension shows the number when no customer matched", () => {
  const tile = extensionTile(extension("111"), NOW);
  assert.equal(tile.stateWord, "Ringing");
  assert.equal(tile.who, "0544 111 22 33");
  assert.equal(tile.timer, "0:07");
});

test("a free extension shows for how long, in minutes", () => {
  const tile = extensionTile(extension("112"), NOW);
  assert.equal(tile.stateWord, "Free");
  assert.equal(tile.timer, "5 min");
  assert.equal(tile.who, "");
  assert.equal(extensionTile(extension("112"), NOW + 60_000).timer, "6 min");
});

test("an extension with no call today is free without a time", () => {
  assert.equal(extensionTile(extension("99"), NOW).timer, "");
});

test("a masked number on a display link is shown as it came", () => {
  const masked = { ...extension("111"), party_display: "•••• ••• •• 33" };
  assert.equal(extensionTile(masked, NOW).who, "•••• ••• •• 33");
});

test("an unknown state is shown as free rather than breaking the board", () => {
  assert.equal(extensionTile({ ...extension("110"), state: "parked" }, NOW).state, "free");
});

test("extensions are ordered as people count them", () => {
  assert.deepEqual(
    orderExtensions(MESSAGE.extensions).map((e) => e.extension),
    ["99", "110", "111", "112", "113"],
  );
});

test("a live board has no stale line", () => {
  assert.equal(staleLine(MESSAGE, NOW), "");
});

test("a stale board says since when the data is old, and how long ago that was", () => {
  const stale = { ...MESSAGE, stale: true, pbx_ok: false, last_ok_at: "2026-12-01T09:58:02+03:00" };
  assert.match(staleLine(stale, NOW), /^PBX not answering · last data 09.58 \(2 min ago\)$/);
  assert.equal(staleLine({ ...stale, last_ok_at: null }, NOW), "PBX not answering · no data yet");
});

test("time since never goes negative (a clock a little behind)", () => {
  assert.equal(secondsSince("2026-12-01T10:00:05+03:00", NOW), 0);
  assert.equal(secondsSince(null, NOW), null);
});
