// The times the follow-up form sends (the pure part of static/js/follow-ups.js): the browser's
// local time with its offset, so the server reads the moment the agent meant, whatever its zone.
import assert from "node:assert/strict";
import { test } from "node:test";

import { isoWithOffset, localInputValue } from "../../static/js/follow-ups.js";

function inZone(zone, body) {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    body();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

test("a local time is sent with the zone's offset, to the second", () => {
  inZone("Europe/Istanbul", () => {
    const moment = new Date("2026-12-01T12:30:05Z");
    assert.equal(isoWithOffset(moment), "2026-12-01T15:30:05+03:00");
    assert.equal(localInputValue(moment), "2026-12-01T15:30");
  });
  inZone("America/St_Johns", () => {
    // A zone behind UTC by hours and a half.
    assert.equal(isoWithOffset(new Date("2026-12-01T12:30:05Z")), "2026-12-01T09:00:05-03:30");
  });
});

test("what is sent is the same moment, in any zone", () => {
  for (const zone of ["UTC", "Europe/Istanbul", "Asia/Kolkata", "America/New_York"]) {
    inZone(zone, () => {
      const moment = new Date("2026-03-29T01:15:42Z");
      assert.equal(new Date(isoWithOffset(moment)).getTime(), moment.getTime(), zone);
    });
  }
});
