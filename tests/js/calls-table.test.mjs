// The live table (static/js/calls-table.js): its row order, and the rows' "Note" on a small fake DOM.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CallsTable, orderCalls } from "../../static/js/calls-table.js";

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

// The rows' "Note" (the table's DOM part), on a DOM just big enough for the table: elements with
// classes, attributes, children and click listeners.
class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.parentNode = null;
    this.className = "";
    this.dataset = {};
    this.attributes = new Map();
    this.listeners = new Map();
    this.textContent = "";
  }

  get classList() {
    const names = () => new Set(this.className.split(" ").filter(Boolean));
    const write = (set) => (this.className = [...set].join(" "));
    return {
      add: (...add) => write(new Set([...names(), ...add])),
      remove: (...gone) => write(new Set([...names()].filter((n) => !gone.includes(n)))),
      toggle: (name, on) => (on ? this.classList.add(name) : this.classList.remove(name)),
      contains: (name) => names().has(name),
    };
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  addEventListener(type, listener) {
    this.listeners.set(type, [...(this.listeners.get(type) || []), listener]);
  }

  click() {
    for (const listener of this.listeners.get("click") || []) listener();
  }

  focus() {
    document.activeElement = this;
  }

  remove() {
    if (!this.parentNode) return;
    this.parentNode.children.splice(this.parentNode.children.indexOf(this), 1);
    this.parentNode = null;
  }

  insertBefore(node, before) {
    node.remove();
    const at = before ? this.children.indexOf(before) : this.children.length;
    this.children.splice(at, 0, node);
    node.parentNode = this;
  }

  append(...nodes) {
    for (const node of nodes) this.insertBefore(node, null);
  }

  replaceChildren(...nodes) {
    for (const child of [...this.children]) child.remove();
    this.append(...nodes);
  }

  after(node) {
    const next = this.parentNode.children[this.parentNode.children.indexOf(this) + 1];
    this.parentNode.insertBefore(node, next || null);
  }

  contains(node) {
    return node === this || this.children.some((child) => child.contains(node));
  }

  /** Selectors of a tag and classes only: "button", ".col-duration", "button.row-note". */
  matches(selector) {
    const [tag, ...classes] = selector.split(".");
    return (!tag || this.tagName === tag.toUpperCase()) && classes.every((c) => this.classList.contains(c));
  }

  querySelectorAll(selector) {
    return this.children.flatMap((child) => [
      ...(child.matches(selector) ? [child] : []),
      ...child.querySelectorAll(selector),
    ]);
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
}

globalThis.document = { createElement: (tag) => new FakeElement(tag), activeElement: null };

/** A stand-in for CallWork: what the table asks of it, and what was asked. */
function fakeWork(call) {
  return {
    call,
    element: new FakeElement("section"),
    closed: 0,
    focused: 0,
    start: async () => {},
    focus() {
      this.focused += 1;
    },
    close() {
      this.closed += 1;
      return Promise.resolve(true);
    },
  };
}

function tableWith(options = {}) {
  const body = new FakeElement("tbody");
  const works = [];
  const ended = [];
  const table = new CallsTable({
    body,
    empty: {},
    onCount: () => {},
    now: () => Date.parse("2026-12-01T09:10:00Z"),
    canHangup: false,
    canWriteWork: true,
    newWork: (c) => {
      works.push(fakeWork(c));
      return works.at(-1);
    },
    onWorkEnded: (c, work) => ended.push({ call: c, work }),
    ...options,
  });
  return { table, body, works, ended };
}

const liveCall = (channel, startedAt, extra = {}) => ({
  ...call(channel, startedAt),
  key: channel.padEnd(32, "0"),
  src_display: `0532 000 00 ${channel.length}`,
  dst_display: "110",
  direction: "out",
  ...extra,
});

const rowOf = (body, channel) =>
  body.children.find((row) => row.className.includes("call-row") && row.dataset.channel === channel);
const noteButton = (body, channel) => rowOf(body, channel).querySelector("button.row-note");
const order = (body) => body.children.map((row) => `${row.className.split(" ")[0]}:${row.dataset.channel}`);

test("a call with a key has a Note button naming its caller, for those who may write", () => {
  const { table, body } = tableWith();
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z", { key: null })]);
  const button = noteButton(body, "a");
  assert.equal(button.textContent, "Note");
  assert.equal(button.getAttribute("aria-label"), "Note on the call from 0532 000 00 1");
  assert.equal(button.getAttribute("aria-expanded"), "false");
  assert.equal(noteButton(body, "b"), null); // nowhere to save a note without the call's key
});

test("without the permission no row has a Note button, nor an actions cell of its own", () => {
  const { table, body } = tableWith({ canWriteWork: false });
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z")]);
  assert.equal(noteButton(body, "a"), null);
  assert.equal(rowOf(body, "a").querySelector("td.col-actions"), null);
});

test("the note opens in a row under its call's, across the table, and takes the focus", async () => {
  const { table, body, works } = tableWith({ canHangup: true });
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z")]);
  noteButton(body, "a").click();
  assert.deepEqual(order(body), ["call-row:a", "work-row:a", "call-row:b"]);
  const cell = body.children[1].children[0];
  assert.equal(cell.colSpan, rowOf(body, "a").children.length);
  assert.ok(cell.contains(works[0].element));
  assert.equal(noteButton(body, "a").getAttribute("aria-expanded"), "true");
  await Promise.resolve();
  assert.equal(works[0].focused, 1);
});

test("the note stays under its call's row when the rows re-order and the row is redrawn", () => {
  const { table, body } = tableWith();
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z")]);
  noteButton(body, "b").click();
  table.setAll([
    liveCall("a", "2026-12-01T09:00:00Z"),
    liveCall("b", "2026-12-01T09:01:00Z", { ringing: true }),
    liveCall("c", "2026-12-01T09:02:00Z", { ringing: true }),
  ]);
  assert.deepEqual(order(body), ["call-row:b", "work-row:b", "call-row:c", "call-row:a"]);
  assert.equal(noteButton(body, "b").getAttribute("aria-expanded"), "true");
});

test("the note being typed in gets the focus back when its rows had to move", () => {
  const { table, body, works } = tableWith();
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z")]);
  noteButton(body, "b").click();
  const textarea = new FakeElement("textarea");
  works[0].element.append(textarea);
  textarea.focus();
  // A moved element loses the focus in a browser; here the move marks it so.
  const insertBefore = body.insertBefore.bind(body);
  body.insertBefore = (node, before) => {
    if (node.contains(document.activeElement)) document.activeElement = null;
    insertBefore(node, before);
  };
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z", { ringing: true })]);
  assert.deepEqual(order(body), ["call-row:b", "work-row:b", "call-row:a"]);
  assert.equal(document.activeElement, textarea);
});

test("clicking Note again, or ×, closes the note, saving what was typed first", () => {
  const { table, body, works } = tableWith();
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z")]);
  noteButton(body, "a").click();
  noteButton(body, "a").click();
  assert.equal(works[0].closed, 1);
  assert.deepEqual(order(body), ["call-row:a"]);
  assert.equal(noteButton(body, "a").getAttribute("aria-expanded"), "false");

  noteButton(body, "a").click();
  body.children[1].querySelector("button.work-close").click();
  assert.equal(works[1].closed, 1);
  assert.deepEqual(order(body), ["call-row:a"]);
  assert.equal(document.activeElement, noteButton(body, "a"));
});

test("a call whose pop card this tab shows sends the focus there instead of opening a second note", () => {
  const asked = [];
  const { table, body, works } = tableWith({ focusCard: (channel) => asked.push(channel) > 0 });
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z")]);
  noteButton(body, "a").click();
  assert.deepEqual(asked, ["a"]);
  assert.equal(works.length, 0);
  assert.deepEqual(order(body), ["call-row:a"]);
});

test("a call that ends with its note open hands the note on, in a diff or a snapshot", () => {
  const { table, body, works, ended } = tableWith();
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z")]);
  noteButton(body, "a").click();
  noteButton(body, "b").click();

  table.apply({ added: [], changed: [], removed: ["a"] });
  assert.equal(ended.length, 1);
  assert.equal(ended[0].call.channel, "a");
  assert.equal(ended[0].work, works[0]);
  assert.equal(works[0].closed, 0); // the wrap-up card closes it, once the agent is done
  assert.ok(!order(body).includes("work-row:a"));

  table.setAll([]); // a reconnect's snapshot: "b" ended while the panel was away
  assert.deepEqual(
    ended.map((e) => e.call.channel),
    ["a", "b"],
  );
  assert.deepEqual(order(body), []);
});

test("closing every note (no permission any more) saves each and hands none on", () => {
  const { table, body, works, ended } = tableWith();
  table.setAll([liveCall("a", "2026-12-01T09:00:00Z"), liveCall("b", "2026-12-01T09:01:00Z")]);
  noteButton(body, "a").click();
  noteButton(body, "b").click();
  table.closeAllWork();
  table.setAll([]);
  assert.deepEqual(
    works.map((work) => work.closed),
    [1, 1],
  );
  assert.equal(ended.length, 0);
});
