// The agent panel: wires the live connection to the table, the screen-pops and the hang-up dialog,
// and keeps the connection indicator honest.

import { CallWork, workUrlOf } from "./call-work.js";
import { CallsTable } from "./calls-table.js";
import { FollowUps } from "./follow-ups.js";
import { formatClock, gettext, interpolate } from "./format.js";
import { HangupDialog } from "./hangup.js";
import { LiveConnection } from "./live-connection.js";
import { ScreenPops } from "./screen-pop.js";

const config = JSON.parse(document.getElementById("panel-config").textContent);
const statusBox = document.getElementById("connection-status");
const countBox = document.getElementById("call-count");
const baseTitle = document.title;

const dialog = config.canHangup
  ? new HangupDialog({ dialog: document.getElementById("hangup-dialog"), url: config.hangupUrl })
  : null;

const followUps = new FollowUps({ container: document.getElementById("pops"), config });

const pops = new ScreenPops({
  container: document.getElementById("pops"),
  extensions: config.extensions,
  popAll: config.popAll,
  callerUrl: config.callerUrl,
  workUrl: config.workUrl,
  wrapUpSeconds: config.wrapUpSeconds,
  onCard: (card, call) => followUps.attach(card, call),
});

const connection = new LiveConnection({
  path: config.wsPath,
  pollInterval: config.pollInterval,
  onSnapshot(calls) {
    table.setAll(calls);
    pops.endCallsNotIn((channel) => table.has(channel));
    calls.forEach((call) => pops.consider(call));
  },
  onDiff(diff) {
    table.apply(diff);
    diff.removed.forEach((channel) => pops.callEnded(channel));
    [...diff.added, ...diff.changed].forEach((call) => pops.consider(call));
  },
  onStatus: showStatus,
  onUnauthenticated() {
    // A session that had been streaming may only have changed its key (a password change in
    // another tab): reloading comes back at once if so, and reaches the login page if not. A
    // refusal before any data goes straight to the login page, so no reload can loop.
    if (connection.everConnected) location.reload();
    else location.assign(config.loginUrl);
  },
  onForbidden() {
    table.closeAllWork(); // before the rows go: a call no longer shown gets no wrap-up card either
    table.setAll([]);
    pops.endAll();
    followUps.stop();
  },
});

const table = new CallsTable({
  body: document.getElementById("calls-body"),
  empty: document.getElementById("calls-empty"),
  canHangup: config.canHangup,
  onHangup: (call) => dialog && dialog.open(call),
  canWriteWork: config.canWriteWork,
  newWork: (call) => new CallWork({ url: workUrlOf(config.workUrl, call.key) }),
  focusCard: (channel) => pops.focusCard(channel),
  onWorkEnded: (call, work) => pops.adoptWrapUp(call, work),
  now: () => connection.serverNow(),
  onCount(count) {
    countBox.textContent = String(count);
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  },
});

// Why the PBX is not answering, per `pbx.reason` (docs/websocket-protocol.md), in the user's
// language; the server's technical detail (`pbx.error`) follows in parentheses.
const PBX_REASONS = {
  unreachable: gettext("The PBX cannot be reached (network, address or PBX down)."),
  timeout: gettext("The PBX is answering too slowly."),
  http_error: gettext("The PBX answered with an HTTP error."),
  bad_response: gettext("The PBX sent an answer that cannot be read."),
  rejected: gettext("The PBX refused the request (check the API user and password)."),
  not_configured: gettext("The PBX address is not configured."),
  waiting: gettext("Waiting for the first poll."),
};

function pbxDetail(pbx) {
  const error = (pbx && pbx.error) || "";
  const sentence = pbx && Object.hasOwn(PBX_REASONS, pbx.reason) ? PBX_REASONS[pbx.reason] : "";
  // "waiting" has no technical detail worth showing: its error only repeats it in English.
  if (sentence && error && pbx.reason !== "waiting") return `${sentence} (${error})`;
  return sentence || error;
}

function showStatus(status) {
  let state = "live";
  let text = gettext("Live");
  let detail = "";
  if (status.connection === "forbidden") {
    state = "forbidden";
    text = gettext(
      "Your account has no role that shows live calls. An administrator can give you one.",
    );
  } else if (status.connection === "connecting") {
    state = "connecting";
    text = gettext("Connecting…");
  } else if (status.connection === "reconnecting") {
    state = "reconnecting";
    text = gettext("Connection lost, reconnecting…");
  } else if (status.pbxOk === false) {
    state = "pbx-down";
    text = status.lastOkAt
      ? interpolate(gettext("PBX not answering since %s"), [formatClock(status.lastOkAt)])
      : gettext("PBX not answering");
    detail = pbxDetail(connection.pbx);
  } else if (status.stale) {
    state = "stale";
    text = gettext("Data may be out of date: no update for a while");
  }
  // Compared before writing: this runs every second, and a live region re-announces each change.
  if (
    statusBox.dataset.state !== state ||
    statusBox.dataset.text !== text ||
    statusBox.dataset.detail !== detail
  ) {
    statusBox.dataset.state = state;
    statusBox.dataset.text = text;
    statusBox.dataset.detail = detail;
    statusBox.querySelector("[data-role=text]").textContent = text;
    statusBox.querySelector("[data-role=detail]").textContent = detail;
  }
}

const notifyButton = document.getElementById("enable-notifications");
if ("Notification" in window && Notification.permission === "default") {
  notifyButton.hidden = false;
  notifyButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    notifyButton.hidden = Notification.permission !== "default";
  });
}

// For end-to-end tests and the curious: the live connection of this page.
window.telsamPanel = { connection, table, pops, followUps };
table.start();
connection.start();
followUps.start();
