// The agent panel: wires the live connection to the table, the screen-pops and the hang-up dialog,
// and keeps the connection indicator honest.

import { CallWork, workUrlOf } from "./call-work.js";
import { CallsTable } from "./calls-table.js";
import { describeStatus, paintStatus } from "./connection-status.js";
import { FollowUps } from "./follow-ups.js";
import { gettext } from "./format.js";
import { HangupDialog } from "./hangup.js";
import { LiveConnection } from "./live-connection.js";
import { offerNotifications } from "./notifications.js";
import { ScreenPops } from "./screen-pop.js";
import { WallboardAlerts, boardPbx } from "./wallboard-alerts.js";

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

const FORBIDDEN_TEXT = gettext(
  "Your account has no role that shows live calls. An administrator can give you one.",
);

function showStatus(status) {
  paintStatus(statusBox, describeStatus(status, connection.pbx, FORBIDDEN_TEXT));
}

offerNotifications(document.getElementById("enable-notifications"));

// A supervisor's panel hears the wallboard's queue alerts too (no board here, only the alerts):
// a second socket, quiet about its state, since the panel's own status line speaks for the page.
const alerts = config.canSeeWallboard
  ? new WallboardAlerts({ soundButton: document.getElementById("alert-sound") })
  : null;
const wallboardConnection = alerts
  ? new LiveConnection({
      path: config.wallboardWsPath,
      pollInterval: config.pollInterval,
      snapshots: false,
      pbxOf: boardPbx,
      onMessage: (message) => alerts.consider(message),
      onStatus() {},
      onUnauthenticated() {}, // the panel's own socket sends the page to the login
      onForbidden() {}, // the right was taken away: no alerts, the panel goes on
    })
  : null;

// For end-to-end tests and the curious: the live connection of this page.
window.telsamPanel = { connection, table, pops, followUps, alerts, wallboardConnection };
table.start();
connection.start();
followUps.start();
if (wallboardConnection) wallboardConnection.start();
