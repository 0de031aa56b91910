// The agent panel: wires the live connection to the table, the screen-pops and the hang-up dialog,
// and keeps the connection indicator honest.

import { CallsTable } from "./calls-table.js";
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

const pops = new ScreenPops({
  container: document.getElementById("pops"),
  extensions: config.extensions,
  popAll: config.popAll,
  callerUrl: config.callerUrl,
});

const connection = new LiveConnection({
  path: config.wsPath,
  pollInterval: config.pollInterval,
  onSnapshot(calls) {
    table.setAll(calls);
    for (const card of [...pops.cards.keys()]) if (!table.has(card)) pops.callEnded(card);
    calls.forEach((call) => pops.consider(call));
  },
  onDiff(diff) {
    table.apply(diff);
    diff.removed.forEach((channel) => pops.callEnded(channel));
    [...diff.added, ...diff.changed].forEach((call) => pops.consider(call));
  },
  onStatus: showStatus,
  onUnauthenticated() {
    location.assign(config.loginUrl);
  },
});

const table = new CallsTable({
  body: document.getElementById("calls-body"),
  empty: document.getElementById("calls-empty"),
  canHangup: config.canHangup,
  onHangup: (call) => dialog && dialog.open(call),
  now: () => connection.serverNow(),
  onCount(count) {
    countBox.textContent = String(count);
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  },
});

function showStatus(status) {
  let state = "live";
  let text = gettext("Live");
  let detail = "";
  if (status.connection === "connecting") {
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
    detail = status.pbxError || "";
  } else if (status.stale) {
    state = "stale";
    text = gettext("Data may be out of date: no update for a while");
  }
  if (statusBox.dataset.state !== state || statusBox.dataset.text !== text) {
    statusBox.dataset.state = state;
    statusBox.dataset.text = text;
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
window.telsamPanel = { connection, table, pops };
connection.start();
