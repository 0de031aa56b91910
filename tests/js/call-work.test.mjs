// The save rules of a call's note and wrap-up code in the pop (static/js/call-work.js): a note goes
// a second after the last keystroke, a code at once, one save at a time, and a failed save loses
// nothing and goes again on the next keystroke or flush.
import assert from "node:assert/strict";
import { test } from "node:test";

import { changedFields, WorkSaver } from "../../static/js/call-work.js";

/** Timers that run only when the test says time has passed. */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const pending = new Map();
  return {
    setTimeout(callback, ms) {
      pending.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...pending]) {
        if (timer.at <= now) {
          pending.delete(id);
          timer.callback();
        }
      }
    },
  };
}

/** A server that takes every save (or refuses while `refuse` is set), keeping what it was sent. */
function fakeServer() {
  const server = {
    sent: [],
    refuse: null,
    async send(fields) {
      server.sent.push(fields);
      if (server.refuse) return { ok: false, error: server.refuse };
      return { ok: true, data: { note: fields.note } };
    },
  };
  return server;
}

function saverWith(server, timers, statuses = []) {
  const saver = new WorkSaver({
    send: server.send,
    onStatus: (status) => statuses.push(status.state),
    timers,
  });
  saver.loaded({ note: "", wrap_up: "" });
  return saver;
}

test("only the fields that differ from the saved ones are sent", () => {
  const saved = { note: "a", wrap_up: "" };
  assert.deepEqual(changedFields(saved, { note: "a", wrap_up: "3" }), { wrap_up: "3" });
  assert.deepEqual(changedFields({ note: "a", wrap_up: "3" }, { note: "a", wrap_up: "3" }), {});
});

test("a note is saved once, a second after the last keystroke", async () => {
  const server = fakeServer();
  const timers = fakeTimers();
  const saver = saverWith(server, timers);

  for (const text of ["İ", "İa", "İad", "İade"]) {
    saver.typed(text);
    timers.advance(400);
  }
  assert.deepEqual(server.sent, []);
  timers.advance(600);
  await saver.queue;
  assert.deepEqual(server.sent, [{ note: "İade" }]);
  assert.equal(saver.dirty, false);
});

test("a flush (blur, the call's end) saves at once and cancels the pending timer", async () => {
  const server = fakeServer();
  const timers = fakeTimers();
  const saver = saverWith(server, timers);

  saver.typed("Geri arayacak");
  assert.equal(await saver.flush(), true);
  timers.advance(5000);
  await saver.queue;
  assert.deepEqual(server.sent, [{ note: "Geri arayacak" }]);
});

test("nothing is sent when nothing changed", async () => {
  const server = fakeServer();
  const saver = saverWith(server, fakeTimers());
  saver.loaded({ note: "Kayıtlı", wrap_up: "3" });
  saver.typed("Kayıtlı");
  assert.equal(await saver.flush(), true);
  assert.deepEqual(server.sent, []);
});

test("a picked code goes at once, with a note typed meanwhile", async () => {
  const server = fakeServer();
  const saver = saverWith(server, fakeTimers());
  saver.typed("İade");
  await saver.picked("3");
  assert.deepEqual(server.sent, [{ note: "İade", wrap_up: "3" }]);
});

test("a failed save keeps the draft and the next keystroke sends it all again", async () => {
  const server = fakeServer();
  const timers = fakeTimers();
  const statuses = [];
  const saver = saverWith(server, timers, statuses);

  server.refuse = "Sunucu hatası";
  saver.typed("İade istiyor");
  assert.equal(await saver.flush(), false);
  assert.equal(saver.dirty, true);
  assert.deepEqual(statuses, ["saving", "error"]);

  server.refuse = null;
  saver.typed("İade istiyor.");
  timers.advance(1000);
  await saver.queue;
  assert.deepEqual(server.sent.at(-1), { note: "İade istiyor." });
  assert.equal(saver.dirty, false);
  assert.deepEqual(statuses.slice(2), ["saving", "saved"]);
});

test("a request that throws is an error, not a lost note", async () => {
  const saver = new WorkSaver({
    send: async () => {
      throw new Error("offline");
    },
    timers: fakeTimers(),
  });
  saver.loaded({ note: "", wrap_up: "" });
  saver.typed("Not");
  assert.equal(await saver.flush(), false);
  assert.equal(saver.draft.note, "Not");
  assert.equal(saver.dirty, true);
});

test("finish goes with the code even when it is already saved; a refusal can be retried", async () => {
  const server = fakeServer();
  const saver = saverWith(server, fakeTimers());
  server.refuse = "Bu kuyruğun çağrıları için sonuç kodu gerekli.";
  assert.equal(await saver.flush({ wrap_up: "", finish: "1" }), false);
  server.refuse = null;
  await saver.picked("3");
  assert.equal(await saver.flush({ wrap_up: "3", finish: "1" }), true);
  assert.deepEqual(server.sent, [
    { wrap_up: "", finish: "1" },
    { wrap_up: "3" },
    { wrap_up: "3", finish: "1" },
  ]);
});

test("saves run one after another: a second flush waits for the first answer", async () => {
  const answers = [];
  const sent = [];
  const saver = new WorkSaver({
    send: (fields) => {
      sent.push(fields);
      return new Promise((resolve) => answers.push(resolve));
    },
    timers: fakeTimers(),
  });
  saver.loaded({ note: "", wrap_up: "" });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  saver.typed("a");
  const first = saver.flush();
  await tick(); // the first save is in flight
  saver.typed("ab");
  const second = saver.flush();
  await tick();
  assert.deepEqual(sent, [{ note: "a" }]); // the second waits for its answer
  answers[0]({ ok: true, data: {} });
  assert.equal(await first, true);
  await tick();
  assert.deepEqual(sent, [{ note: "a" }, { note: "ab" }]);
  answers[1]({ ok: true, data: {} });
  assert.equal(await second, true);
});
