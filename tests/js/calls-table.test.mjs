// The live table's row order (the pure part of static/js/calls-table.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { orderCalls } from "../../static/js/calls-table.js";

// `ringing` comes from the server, which reads it from the PBX's call state, whatever its language.
const call = (channel, startedAt, callinfo = "Konuşuyor", ringing = false) => ({
  channel,
  started_at: startedAt,
  callinfo,
  ringing,
});

test("the longest-running call comes first", () => {
  const calls = [
    call("late", "2026-12-01T09:05:00Z"),
    call("early", "2026-12-01T09:00:00Z"),
    call("middle", "2026-12-01T09:02:30Z"),
  ];
  assert.deepEqual(
    orderCalls(calls).map((c) => c.channel),
    ["early", "middle", "late"],
  );
});

test("ringing calls come before answered ones, longest-ringing first", () => {
  const calls = [
    call("answered-early", "2026-12-01T09:00:00Z"),
    call("ringing-late", "2026-12-01T09:06:00Z", "Ringing", true),
    call("ringing-early", "2026-12-01T09:04:00Z", "Çalıyor", true),
  ];
  assert.deepEqual(
    orderCalls(calls).map((c) => c.channel),
    ["ringing-early", "ringing-late", "answered-early"],
  );
});

test("the order follows the server's ringing flag, not the call state's text", () => {
  const calls = [
    call("answered-early", "2026-12-01T09:00:00Z", "Çalıyor", false),
    call("ringing-late", "2026-12-01T09:06:00Z", "Kuyrukta", true),
  ];
  assert.deepEqual(
    orderCalls(calls).map((c) => c.channel),
    ["ringing-late", "answered-early"],
  );
});

test("ordering leaves the caller's collection as it was", () => {
  const calls = [call("b", "2026-12-01T09:05:00Z"), call("a", "2026-12-01T09:00:00Z")];
  orderCalls(calls);
  assert.deepEqual(
    calls.map((c) => c.channel),
    ["b", "a"],
  );
});
