// The live websockets (docs/websocket-protocol.md): keeps one connection open, applies the
// run/seq rules, resynchronises on a gap, reconnects with jittered backoff, and says how fresh the
// data is. Reconnecting is treated exactly like a first start: the server sends a new snapshot.
// The wallboard's sockets speak a simpler protocol on the same rules (`snapshots: false`): every
// message is the whole state, so there is nothing to order, only a message to hand on.

const CLOSE_UNAUTHENTICATED = 4401;
// Logged in, but no role that shows live calls (or the role was taken away).
const CLOSE_FORBIDDEN = 4403;
// A wallboard display link that was revoked: it will never work again.
const CLOSE_REVOKED = 4410;
const BACKOFF_FIRST_MS = 500;
// Often the web server is up while what it needs is not (Redis restarting): its handshakes fail
// until then, and a page must be back within seconds after, so the wait never grows past 5 s. The
// jitter spreads a room full of pages over those seconds.
const BACKOFF_MAX_MS = 5000;
const STALE_AFTER_INTERVALS = 3;
// A server that is there answers a resync at once.
const RESYNC_ANSWER_MS = 3000;

export class LiveConnection {
  /**
   * @param {object} options
   * @param {string} options.path          websocket path, e.g. "/ws/calls/"
   * @param {number} options.pollInterval  seconds between server polls
   * @param {(calls: object[]) => void} options.onSnapshot  the complete set of calls
   * @param {(diff: object) => void} options.onDiff         added / changed / removed
   * @param {boolean} [options.snapshots=true]  false: no snapshot or diff is expected; every
   *   message is the whole state and goes to `onMessage` (the wallboard's sockets)
   * @param {(message: object) => void} [options.onMessage]  any other message type (or, with
   *   `snapshots: false`, every message)
   * @param {(message: object) => object} [options.pbxOf]  a message's PBX state ({ok,
   *   last_ok_at, error, reason}); by default its `pbx` field
   * @param {(status: object) => void} options.onStatus     connection and PBX state
   * @param {() => void} options.onUnauthenticated          the session is gone: go to login
   * @param {() => void} options.onForbidden                no permission for live calls
   * @param {() => void} [options.onRevoked]                the display link was revoked (4410)
   */
  constructor(options) {
    this.options = options;
    this.socket = null;
    this.run = null;
    this.seq = null;
    this.at = null; // the poll time of the state shown
    this.attempt = 0;
    this.retryTimer = null;
    this.lastMessageAt = 0;
    this.pbx = null;
    this.state = "connecting";
    this.serverOffsetMs = 0; // browser clock minus server clock
    // Whether the server clock was taken from a message sent right after its poll (a diff, or
    // a state message not answering a connect or resync), rather than from a resent one.
    this.clockFromPoll = false;
    // The next message answers a connect or a resync: the state of an earlier poll, resent.
    this.expectResent = false;
    this.everConnected = false;
    this.stopped = false;
    this.awaitingPoll = false;
    this.openedAt = 0;
    this.resyncSentAt = null;
    this.ticker = null;
    // Bound once, so stop() can remove exactly what start() added.
    this.onVisible = () => {
      if (document.visibilityState === "visible" && !this.isOpen()) this.connectNow();
    };
    this.onOnline = () => this.connectNow();
  }

  start() {
    if (this.ticker !== null) return;
    this.stopped = false;
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("online", this.onOnline);
    this.ticker = setInterval(() => {
      this.watchSilence();
      this.reportStatus();
    }, 1000);
    this.open();
  }

  /** Close the socket for good: no reconnect, no timers, no listeners left behind. */
  stop() {
    this.stopped = true;
    clearInterval(this.ticker);
    this.ticker = null;
    clearTimeout(this.retryTimer);
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("online", this.onOnline);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000, "stopped by the page");
      this.socket = null;
    }
  }

  isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Server time now, in milliseconds: durations tick on the server's clock. */
  serverNow() {
    return Date.now() - this.serverOffsetMs;
  }

  connectNow() {
    if (this.stopped || this.isOpen()) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.open();
  }

  open() {
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${this.options.path}`);
    this.socket = socket;
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    socket.onopen = () => {
      this.attempt = 0;
      this.openedAt = Date.now();
      this.resyncSentAt = null;
      this.expectResent = true;
    };
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => this.closed(event);
  }

  closed(event) {
    this.socket = null;
    if (event.code === CLOSE_UNAUTHENTICATED) {
      // Never retry an authentication refusal: it would fail the same way forever.
      this.stopped = true;
      this.setState("unauthenticated");
      this.options.onUnauthenticated();
      return;
    }
    if (event.code === CLOSE_FORBIDDEN) {
      // Neither: only an administrator giving the role back helps, and then a reload.
      this.stopped = true;
      this.setState("forbidden");
      this.options.onForbidden();
      return;
    }
    if (event.code === CLOSE_REVOKED) {
      // A revoked display link stays revoked: a screen retrying it would knock forever.
      this.stopped = true;
      this.setState("revoked");
      if (this.options.onRevoked) this.options.onRevoked();
      return;
    }
    this.setState("reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: no thundering herd
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  /** Drop the socket as a network failure would (used by tests and the "reconnect" button). */
  drop() {
    if (this.socket) this.socket.close(4000, "dropped by the page");
  }

  resync() {
    if (!this.isOpen()) return;
    this.expectResent = true;
    this.socket.send(JSON.stringify({ type: "resync" }));
  }

  /**
   * An open socket can go quiet while the server still runs: Redis restarted under the web server
   * and forgot this socket's group membership, or the web server's connection to Redis hangs.
   * After three silent intervals ask for a snapshot (which renews the membership); if even that
   * goes unanswered, start over with a new socket.
   */
  watchSilence() {
    if (!this.isOpen()) return;
    const now = Date.now();
    if (this.resyncSentAt !== null) {
      if (now - this.resyncSentAt > RESYNC_ANSWER_MS) this.drop();
      return;
    }
    const heardAt = Math.max(this.lastMessageAt, this.openedAt);
    if (now - heardAt > STALE_AFTER_INTERVALS * this.options.pollInterval * 1000) {
      this.resyncSentAt = now;
      this.resync();
    }
  }

  receive(message) {
    this.everConnected = true;
    this.lastMessageAt = Date.now();
    this.resyncSentAt = null;
    const resent = this.expectResent;
    this.expectResent = false;
    if (this.options.snapshots === false) {
      this.takeClock(message, !resent);
      this.pbx = this.pbxOf(message);
      if (this.options.onMessage) this.options.onMessage(message);
      this.setState("live");
      return;
    }
    if (!["snapshot", "diff"].includes(message.type)) {
      // Not part of the calls' state (nor its PBX status): only whoever asked for it reads it.
      if (this.options.onMessage) this.options.onMessage(message);
      this.setState("live");
      return;
    }
    const action = messageAction({ run: this.run, seq: this.seq, at: this.at }, message);
    if (action === "hold") {
      this.awaitingPoll = true;
      this.setState("live");
      return;
    }
    this.awaitingPoll = false;
    this.takeClock(message, message.type === "diff");
    this.pbx = this.pbxOf(message);
    if (action === "snapshot") {
      this.run = message.run;
      this.seq = message.seq;
      this.at = message.at;
      this.options.onSnapshot(message.calls);
    } else if (action === "resync") {
      this.resync(); // a reset server or a missed diff: only a full snapshot is safe
    } else if (action === "apply") {
      this.seq = message.seq;
      this.at = message.at;
      this.options.onDiff(message);
    }
    this.setState("live");
  }

  /**
   * A message sent the moment its poll ran (`fresh`) carries the server's clock now in `at`. One
   * resent on connect or resync carries an older poll's `at`: good enough until the first fresh
   * one, but taken later it would stop the clocks and hide a stalled poller.
   */
  takeClock(message, fresh) {
    if (message.at && (fresh || !this.clockFromPoll)) {
      this.serverOffsetMs = Date.now() - Date.parse(message.at);
      this.clockFromPoll = fresh;
    }
  }

  pbxOf(message) {
    return this.options.pbxOf ? this.options.pbxOf(message) : message.pbx;
  }

  setState(state) {
    this.state = state;
    this.reportStatus();
  }

  reportStatus() {
    const staleAfterMs = STALE_AFTER_INTERVALS * this.options.pollInterval * 1000;
    const silent = this.state === "live" && Date.now() - this.lastMessageAt > staleAfterMs;
    const lastOk = this.pbx && this.pbx.last_ok_at ? Date.parse(this.pbx.last_ok_at) : null;
    const pollerSilent = lastOk !== null && this.serverNow() - lastOk > staleAfterMs;
    this.options.onStatus({
      connection: this.state,
      stale: this.awaitingPoll || silent || (this.pbx !== null && this.pbx.ok && pollerSilent),
      pbxOk: this.pbx === null ? null : this.pbx.ok,
      pbxError: this.pbx ? this.pbx.error : null,
      lastOkAt: lastOk,
    });
  }
}

/**
 * What a message does to the state shown (`run`, `seq` and `at` of the last one applied):
 * - "snapshot": replace everything with it;
 * - "hold": an empty snapshot from a server that lost its state (Redis restarted) and has not
 *   polled since. Applied, it would blank the table and close the screen-pops as if every call had
 *   ended: keep what is shown, marked out of date, until the first poll's diff (a new run) brings
 *   a resync;
 * - "apply": the next diff of the same run;
 * - "resync": a reset server (new run), a missed diff (a gap), or the state gone back (below);
 * - "ignore": an older diff the snapshot already held, or a message of no known type.
 */
export function messageAction(shown, message) {
  if (message.type === "snapshot") return message.run === "" && shown.run ? "hold" : "snapshot";
  if (message.type !== "diff") return "ignore";
  if (message.run !== shown.run || message.seq > shown.seq + 1 || wentBack(shown, message)) {
    return "resync";
  }
  return message.seq === shown.seq + 1 ? "apply" : "ignore";
}

/**
 * An old seq from a poll newer than the state shown: not a diff the snapshot already held (that
 * one ran before it), but the server's state gone back to an older copy (Redis restored from a
 * backup or a lagging replica), from which new diffs now continue.
 */
function wentBack(shown, diff) {
  return diff.seq <= shown.seq && shown.at !== null && Date.parse(diff.at) > Date.parse(shown.at);
}
