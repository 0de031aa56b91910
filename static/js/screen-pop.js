// Screen-pop cards: who is calling, for inbound calls ringing the agent's extensions. One pop per
// call across all of the agent's tabs; cards stack and can be dismissed. Each card holds the call's
// note and wrap-up code (call-work.js); when the call ends it becomes a wrap-up card, which closes
// once the wrap-up is saved, dismissed, or left alone for `wrapUpSeconds`. A call whose note was
// open in the calls table when it ended gets the same wrap-up card (`adoptWrapUp`).

import { unknownCallerBody } from "./add-caller.js";
import { CallWork, workUrlOf } from "./call-work.js";
import { customerLink, el, formatWhen, gettext, interpolate } from "./format.js";

const CLAIM_PREFIX = "telsam-pop:";
const CLAIM_TTL_MS = 24 * 3600 * 1000;

export class ScreenPops {
  /**
   * @param {object} options
   * @param {HTMLElement} options.container
   * @param {string[]} options.extensions  the agent's extensions
   * @param {boolean} options.popAll       a supervisor's choice: every inbound ringing call
   * @param {string} options.callerUrl     GET ?number= → the caller card data
   * @param {string} [options.workUrl]      a call's work URL, 32 zeros where its key goes
   * @param {number} [options.wrapUpSeconds] a wrap-up card left alone closes after this (0: never)
   * @param {Function} [options.onCard]     (card, call): adds to a new card (the follow-up form)
   */
  constructor(options) {
    this.options = options;
    this.cards = new Map(); // channel → card element
    this.considered = new Set(); // channels this tab already decided on
    this.releases = new Map(); // channel → releases this tab's claim on its pop
    this.works = new Map(); // card element → its CallWork
    this.wrapUps = new Map(); // wrap-up card element → its closing timer (null: none)
    forgetOldClaims();
  }

  wants(call) {
    if (call.direction !== "in" || call.ringing !== true) return false;
    return this.options.popAll || this.options.extensions.includes(call.dst);
  }

  async consider(call) {
    this.customerFound(call);
    if (this.considered.has(call.channel) || !this.wants(call)) return;
    this.considered.add(call.channel);
    if (!(await claim(call.channel, this.releases))) return; // another tab of this agent shows it
    const card = this.renderPlaceholder(call);
    this.startWork(card, call);
    if (this.options.onCard) this.options.onCard(card, call);
    try {
      this.fill(card, call, await this.callerOf(call));
    } catch {
      card.querySelector(".pop-body").replaceChildren(
        el("p", "error", gettext("Could not load the caller's details.")),
      );
    }
    notify(call, card);
  }

  /** The caller card's data (the customers behind the number, their recent calls). */
  async callerOf(call) {
    const response = await fetch(`${this.options.callerUrl}?number=${encodeURIComponent(call.src)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  /**
   * A diff brought a customer for a call whose open card still says "Unknown caller": someone
   * added them (in another panel, or the admin), so the card shows them as a new pop would, and
   * nobody types the same customer in twice.
   */
  async customerFound(call) {
    const card = this.cards.get(call.channel);
    if (!call.customer || !card || !card.classList.contains("is-unknown")) return;
    if (card.classList.contains("is-adding")) return; // its own form's answer shows the customer
    card.classList.remove("is-unknown"); // once, while the card's data is on its way
    try {
      this.fill(card, call, await this.callerOf(call));
    } catch {
      // As it was: the calls table has the name all the same, and the call's next change retries.
      card.classList.add("is-unknown");
    }
  }

  /** The call is over: its card becomes a wrap-up card (or goes), and this tab forgets the call. */
  callEnded(channel) {
    this.considered.delete(channel);
    const release = this.releases.get(channel);
    if (release) release();
    this.releases.delete(channel);
    const card = this.cards.get(channel);
    const work = card && this.works.get(card);
    if (work && work.wantsWrapUp) this.toWrapUp(card);
    else this.dismiss(channel);
  }

  /** This tab's card of the call, if it shows one, takes the focus (its note): true if so. */
  focusCard(channel) {
    const card = this.cards.get(channel);
    const work = card && this.works.get(card);
    if (!work) return false;
    work.focus();
    return true;
  }

  /**
   * A call ended while its note was open under its row in the calls table: that note, typed text
   * and all, moves into a wrap-up card like a pop's. Someone who may not write the call's work gets
   * none, and neither does a call whose own pop this tab shows: that pop becomes its wrap-up card.
   */
  adoptWrapUp(call, work) {
    if (!work.wantsWrapUp || this.cards.has(call.channel)) {
      work.close();
      return;
    }
    const typing = work.element.contains(document.activeElement);
    const card = this.newCard(call, gettext("Call ended"));
    this.works.set(card, work);
    work.onFinished = () => this.closeCard(card);
    card.append(work.element);
    if (this.options.onCard) this.options.onCard(card, call);
    this.options.container.prepend(card);
    this.toWrapUp(card);
    if (typing) work.focus(); // moving the note took the focus from it
  }

  /** Close the pops of every call `isCurrent(channel)` no longer knows (after a snapshot). */
  endCallsNotIn(isCurrent) {
    for (const channel of [...this.cards.keys()]) if (!isCurrent(channel)) this.callEnded(channel);
  }

  /** Close every pop, wrap-up cards too (no permission for live calls any more). */
  endAll() {
    this.endCallsNotIn(() => false);
    for (const card of [...this.wrapUps.keys()]) this.closeCard(card);
  }

  dismiss(channel) {
    const card = this.cards.get(channel);
    if (card) this.closeCard(card);
  }

  /** Take a card away, a live call's or a wrap-up's; whatever was typed in it is saved first. */
  closeCard(card) {
    if (this.cards.get(card.dataset.channel) === card) this.cards.delete(card.dataset.channel);
    clearTimeout(this.wrapUps.get(card));
    this.wrapUps.delete(card);
    const work = this.works.get(card);
    this.works.delete(card);
    if (work) work.close();
    card.classList.add("is-leaving");
    setTimeout(() => card.remove(), 400);
  }

  startWork(card, call) {
    if (!this.options.workUrl || !call.key) return;
    const work = new CallWork({
      url: workUrlOf(this.options.workUrl, call.key),
      onFinished: () => this.closeCard(card),
    });
    this.works.set(card, work);
    card.append(work.element);
    work.start();
  }

  /**
   * The call ended: the card stays for its wrap-up. It leaves `cards`, which are live calls only,
   * so no snapshot or later call on the same channel can touch it.
   */
  toWrapUp(card) {
    const work = this.works.get(card);
    work.callEnded(); // a half-typed note goes first, before anything else can go wrong
    if (this.cards.get(card.dataset.channel) === card) this.cards.delete(card.dataset.channel);
    card.classList.add("is-wrap-up");
    card.querySelector(".pop-kind").textContent = gettext("Call ended");
    const number = card.querySelector(".pop-number").textContent;
    card.setAttribute("aria-label", interpolate(gettext("Wrap-up of the call from %s"), [number]));
    this.wrapUps.set(card, null);
    this.closeLater(card);
    // Time to close counts from the agent's last touch: a card never closes under their typing.
    card.addEventListener("input", () => this.closeLater(card));
    card.addEventListener("change", () => this.closeLater(card));
  }

  closeLater(card) {
    const seconds = this.options.wrapUpSeconds || 0;
    if (!this.wrapUps.has(card) || seconds <= 0) return;
    clearTimeout(this.wrapUps.get(card));
    this.wrapUps.set(card, setTimeout(() => this.closeCard(card), seconds * 1000));
  }

  renderPlaceholder(call) {
    const card = this.newCard(call, gettext("Incoming call"));
    card.setAttribute("aria-label", interpolate(gettext("Incoming call from %s"), [call.src_display]));
    card.append(el("div", "pop-body", gettext("Loading…")));
    this.cards.set(call.channel, card);
    this.options.container.prepend(card);
    return card;
  }

  /** A card with the header every card of a call has: `kind`, the number, callee and queue. */
  newCard(call, kind) {
    const card = el("article", "pop");
    card.dataset.channel = call.channel;
    const header = el("header", "pop-header");
    const title = el("div", "pop-title");
    title.append(el("span", "pop-kind", kind), el("strong", "pop-number", call.src_display));
    const close = el("button", "pop-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", gettext("Dismiss"));
    close.addEventListener("click", () => this.closeCard(card));
    header.append(title, close);
    // An outgoing call's callee is an outside number, not an extension.
    const callee = call.direction === "out" ? gettext("to %s") : gettext("to extension %s");
    const meta = el("p", "pop-meta", interpolate(callee, [call.dst_display]));
    if (call.queue) meta.textContent += ` · ${interpolate(gettext("queue %s"), [call.queue])}`;
    card.append(header, meta);
    return card;
  }

  fill(card, call, caller) {
    const body = card.querySelector(".pop-body");
    if (caller.customers.length === 0) {
      card.classList.add("is-unknown");
      body.replaceChildren(unknownCallerBody(call, caller));
      return;
    }
    const parts = [];
    if (caller.customers.length > 1) {
      const several = gettext("%s customers share this number");
      parts.push(el("p", "pop-several", interpolate(several, [caller.customers.length])));
    }
    for (const customer of caller.customers) parts.push(customerBlock(customer));
    if (caller.open_follow_ups && caller.open_follow_ups.length) {
      parts.push(openFollowUpsBlock(caller.open_follow_ups));
    }
    if (caller.recent_calls && caller.recent_calls.length) parts.push(historyBlock(caller));
    body.replaceChildren(...parts);
  }
}

function customerBlock(customer) {
  const block = el("section", "pop-customer");
  block.append(customerLink(customer));
  if (customer.company) block.append(el("p", "pop-company", customer.company));
  if (customer.notes) block.append(el("p", "pop-notes", customer.notes));
  const phones = el("ul", "pop-phones");
  for (const phone of customer.phones) phones.append(el("li", null, phone));
  block.append(phones);
  return block;
}

function historyBlock(caller) {
  const block = el("section", "pop-history");
  block.append(el("h3", null, gettext("Recent calls")));
  if (caller.summary) block.append(el("p", "pop-summary", caller.summary));
  const list = el("ul");
  for (const call of caller.recent_calls) list.append(recentCall(call));
  block.append(list);
  return block;
}

/** One of the caller's recent calls, with the wrap-up code and note an agent gave it. */
function recentCall(call) {
  const item = el("li", null, call.text);
  if (call.wrap_up) {
    const code = el("span", "pop-code", call.wrap_up.name);
    code.style.setProperty("--code-colour", call.wrap_up.colour); // CSSOM: allowed by the CSP
    item.append(" ", code);
  }
  if (call.note) item.append(el("span", "pop-call-note", call.note));
  if (call.follow_ups && call.follow_ups.length) {
    const list = el("ul", "timeline-follow-ups");
    for (const followUp of call.follow_ups) list.append(followUpLine(followUp));
    item.append(list);
  }
  return item;
}

/** The caller's open follow-ups whose call is not in the recent calls (not in the history yet). */
function openFollowUpsBlock(followUps) {
  const block = el("section", "pop-open-follow-ups");
  block.append(el("h3", null, gettext("Open follow-ups")));
  const list = el("ul", "timeline-follow-ups");
  for (const followUp of followUps) list.append(followUpLine(followUp));
  block.append(list);
  return block;
}

/** "Call back 2.12.2026 10:00 · sam · the note", marked when done. */
function followUpLine(followUp) {
  const due = formatWhen(followUp.due_at);
  const text = interpolate(gettext("Call back %s · %s"), [due, followUp.assignee]);
  const line = el("li", followUp.done ? "timeline-follow-up is-done" : "timeline-follow-up", text);
  if (followUp.note) line.append(` · ${followUp.note}`);
  if (followUp.done) line.prepend(el("span", "timeline-follow-up-done", `${gettext("done")} · `));
  return line;
}

/**
 * Claim a call's pop for this tab; false when another tab of this browser already has it.
 *
 * With Web Locks (secure contexts: HTTPS or localhost) the tab that shows the card holds a lock
 * named after the call until the call ends: the browser grants it to one tab only, at once.
 * (localStorage alone is not enough: tabs see each other's writes only after a delay.) Without
 * Web Locks (plain HTTP on a LAN address), a localStorage marker is the best effort.
 */
function claim(channel, releases) {
  const key = CLAIM_PREFIX + channel;
  if (!navigator.locks) {
    if (localStorage.getItem(key)) return Promise.resolve(false);
    localStorage.setItem(key, String(Date.now()));
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    navigator.locks.request(key, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Held until the call ends (or the tab closes).
      return lock ? new Promise((release) => releases.set(channel, release)) : undefined;
    });
  });
}

function forgetOldClaims() {
  const cutoff = Date.now() - CLAIM_TTL_MS;
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(CLAIM_PREFIX) && Number(localStorage.getItem(key)) < cutoff) {
      localStorage.removeItem(key);
    }
  }
}

function notify(call, card) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const name = card.querySelector(".pop-name");
  const notification = new Notification(gettext("Incoming call"), {
    body: name ? `${name.textContent} · ${call.src_display}` : call.src_display,
    tag: call.channel,
  });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
