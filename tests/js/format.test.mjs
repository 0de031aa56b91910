// The panel's formatting helpers, run by Node's built-in test runner (`node --test tests/js/`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatDuration, interpolateFallback } from "../../static/js/format.js";

test("durations read m:ss under an hour and h:mm:ss from an hour on", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(7), "0:07");
  assert.equal(formatDuration(754), "12:34");
  assert.equal(formatDuration(3600), "1:00:00");
  assert.equal(formatDuration(3723), "1:02:03");
  assert.equal(formatDuration(12448), "3:27:28");
});

test("durations drop fractions and never go negative (a clock a little ahead)", () => {
  assert.equal(formatDuration(59.9), "0:59");
  assert.equal(formatDuration(-3), "0:00");
});

test("the interpolation fallback fills one value", () => {
  assert.equal(interpolateFallback("+%s more", [3]), "+3 more");
});

test("the interpolation fallback fills every value, in order", () => {
  assert.equal(interpolateFallback("%s of %s calls", [2, 5]), "2 of 5 calls");
});

test("the interpolation fallback leaves a value's own %s alone", () => {
  assert.equal(interpolateFallback("from %s to %s", ["%s", "201"]), "from %s to 201");
});

test("spans read in seconds under a minute, then minutes, then hours and minutes", async () => {
  const { formatSpan } = await import("../../static/js/format.js");
  assert.equal(formatSpan(0), "0 s");
  assert.equal(formatSpan(59.9), "59 s");
  assert.equal(formatSpan(60), "1 min");
  assert.equal(formatSpan(300), "5 min");
  assert.equal(formatSpan(3599), "59 min");
  assert.equal(formatSpan(3600 + 5 * 60 + 30), "1 h 5 min");
  assert.equal(formatSpan(-4), "0 s");
});
