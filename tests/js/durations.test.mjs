// The live rows write durations as the server's pages do: one table of samples for both
// (tests/duration_samples.json; the Python side is tests/calls/test_display.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { formatDuration } from "../../static/js/format.js";

const { samples } = JSON.parse(
  readFileSync(new URL("../duration_samples.json", import.meta.url), "utf8"),
);

test("durations read as on the server's pages", () => {
  for (const [seconds, text] of samples) {
    assert.equal(formatDuration(seconds), text, `${seconds} s`);
  }
});
