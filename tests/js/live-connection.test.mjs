// The run/seq/at rules of the live protocol (docs/websocket-protocol.md) as the page applies them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveConnection, messageAction } from "../../static/js/live-connection.js";

const AT = "2026-12-01T09:00:10Z";
const LATER = "2026-12-01T09:00:12Z";
const EARLIER = "2026-12-01T09:00:08Z";
const shown = { run: "r1", seq: 5, at: AT };
const diff = (fields) => ({ type: "diff", run: "r1", added: [], changed: [], removed: [], ...fields });

test("the first snapshot is applied", () => {
  const none = { run: null, seq: null, at: null };
  assert.equal(messageAction(none, { type: "snapshot", run: "r1", seq: 5, at: AT }), "snapshot");
});

test("a snapshot of another run or seq replaces what is shown", () => {
  assert.equal(messageAction(shown, { type: "snapshot", run: "r2", seq: 1, at: LATER }), "snapshot");
  assert.equal(messageAction(shown, { type: "snapshot", run: "r1", seq: 9, at: LATER }), "snapshot");
});

test("an empty snapshot from a server that lost its state keeps what is shown", () => {
  assert.equal(messageAction(shown, { type: "snapshot", run: "", seq: 0, at: null }), "hold");
});

test("an empty snapshot before anything is shown is applied (nothing to keep)", () => {
  const none = { run: null, seq: null, at: null };
  assert.equal(messageAction(none, { type: "snapshot", run: "", seq: 0, at: null }), "snapshot");
});

test("the next diff of the same run is applied", () => {
  assert.equal(messageAction(shown, diff({ seq: 6, at: LATER })), "apply");
});

test("a diff after a gap asks for a resync", () => {
  assert.equal(messageAction(shown, diff({ seq: 7, at: LATER })), "resync");
});

test("a diff of another run (a reset server) asks for a resync", () => {
  assert.equal(messageAction(shown, diff({ run: "r2", seq: 6, at: LATER })), "resync");
  assert.equal(messageAction(shown, diff({ run: "r2", seq: 1, at: LATER })), "resync");
});

test("a diff before any snapshot asks for a resync", () => {
  const none = { run: null, seq: null, at: null };
  assert.equal(messageAction(none, diff({ seq: 1, at: LATER })), "resync");
});

test("an older diff the snapshot already held is ignored", () => {
  assert.equal(messageAction(shown, diff({ seq: 5, at: AT })), "ignore");
  assert.equal(messageAction(shown, diff({ seq: 4, at: EARLIER })), "ignore");
});

test("a restored older state (same run, seq not past the shown one, later poll) asks for a resync", () => {
  assert.equal(messageAction(shown, diff({ seq: 5, at: LATER })), "resync");
  assert.equal(messageAction(shown, diff({ seq: 3, at: LATER })), "resync");
});

test("a message of no known type changes nothing", () => {
  assert.equal(messageAction(shown, { type: "pong", run: "r9", seq: 99 }), "ignore");
});

// The wallboard's sockets (`snapshots: false`): every message is the whole state.

function stateConnection() {
  const received = [];
  const connection = new LiveConnection({
    path: "/ws/wallboard/",
    pollInterval: 2,
    snapshots: false,
    pbxOf: (message) => ({ ok: message.pbx_ok, last_ok_at: message.last_ok_at }),
    onMessage: (message) => received.push(message),
    onStatus() {},
  });
  return { connection, received };
}

const board = (at) => ({ type: "wallboard", at, pbx_ok: true, last_ok_at: at, queues: [] });

test("without snapshots every message goes to onMessage, with its PBX state", () => {
  const { connection, received } = stateConnection();
  connection.receive(board(AT));
  connection.receive(board(LATER));
  assert.deepEqual(
    received.map((m) => m.at),
    [AT, LATER],
  );
  assert.equal(connection.state, "live");
  assert.deepEqual(connection.pbx, { ok: true, last_ok_at: LATER });
});

test("the clock comes from poll messages, not from one resent on connect or resync", () => {
  const { connection } = stateConnection();
  connection.expectResent = true; // as the socket's open does
  connection.receive(board(AT)); // the last poll's state, resent: taken, nothing better yet
  const offsetFromResent = connection.serverOffsetMs;
  connection.receive(board(LATER)); // a poll's message: the server's clock now
  assert.ok(connection.serverOffsetMs < offsetFromResent);
  const fromPoll = connection.serverOffsetMs;
  connection.expectResent = true; // as a resync does
  connection.receive(board(EARLIER));
  assert.equal(connection.serverOffsetMs, fromPoll);
});

test("a message of another type reaches onMessage on the panel's socket too", () => {
  const received = [];
  const connection = new LiveConnection({
    path: "/ws/calls/",
    pollInterval: 2,
    onSnapshot: () => assert.fail("not a snapshot"),
    onDiff: () => assert.fail("not a diff"),
    onMessage: (message) => received.push(message.type),
    onStatus() {},
  });
  connection.receive({ type: "notice" });
  assert.deepEqual(received, ["notice"]);
  assert.equal(connection.pbx, null, "another type says nothing about the PBX");
});
