// The wallboard page (/wallboard/, its TV mode, and /display/<token>/): wires the wallboard socket
// to the board, the alerts and the status line.

import { describeStatus, paintStatus } from "./connection-status.js";
import { gettext } from "./format.js";
import { LiveConnection } from "./live-connection.js";
import { offerNotifications } from "./notifications.js";
import { Wallboard } from "./wallboard.js";
import { WallboardAlerts, boardPbx } from "./wallboard-alerts.js";

const config = JSON.parse(document.getElementById("wallboard-config").textContent);
const statusBox = document.getElementById("connection-status");
const FORBIDDEN_TEXT = gettext("Your account may not see the wallboard. An administrator can allow it.");

const board = new Wallboard({
  root: document.getElementById("wallboard"),
  queues: document.getElementById("queue-tiles"),
  extensions: document.getElementById("extension-tiles"),
  stale: document.getElementById("wallboard-stale"),
  now: () => connection.serverNow(),
});

const alerts = new WallboardAlerts({ soundButton: document.getElementById("alert-sound") });

const connection = new LiveConnection({
  path: config.wsPath,
  pollInterval: config.pollInterval,
  snapshots: false,
  pbxOf: boardPbx,
  onMessage(message) {
    if (message.type !== "wallboard") return;
    board.show(message);
    alerts.consider(message);
  },
  onStatus: (status) => paintStatus(statusBox, describeStatus(status, null, FORBIDDEN_TEXT)),
  onUnauthenticated() {
    // A display link's screen has no login to go to: it stops, as for a refusal.
    if (!config.loginUrl) board.stop();
    // As on the panel: a page that had been streaming reloads (a new session key after a
    // password change comes back at once), one refused from the start goes to the login.
    else if (connection.everConnected) location.reload();
    else location.assign(config.loginUrl);
  },
  onForbidden: () => board.stop(),
  onRevoked: () => board.stop(),
});

offerNotifications(document.getElementById("enable-notifications"));

// No theme asked for (`&theme=dark|light`): the screen's own preference, followed as it changes
// (a TV switching to its night mode).
if (config.tv && !config.theme) {
  const dark = matchMedia("(prefers-color-scheme: dark)");
  const follow = () => {
    document.documentElement.dataset.theme = dark.matches ? "dark" : "light";
  };
  follow();
  dark.addEventListener("change", follow);
}

// Full screen needs a click (browsers refuse it to a page by itself); F11 works as well.
const fullScreenButton = document.getElementById("full-screen");
if (fullScreenButton && config.tv && document.fullscreenEnabled) {
  fullScreenButton.hidden = false;
  fullScreenButton.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen();
  });
}

// For end-to-end tests and the curious. `show(message)` feeds a message through the connection
// as if the server had sent it (after `connection.stop()`, nothing else arrives).
window.telsamWallboard = {
  connection,
  board,
  alerts,
  show: (message) => connection.receive(message),
};
board.start();
connection.start();
