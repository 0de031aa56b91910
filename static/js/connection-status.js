// The status line of a live page (the panel, the wallboard): what the connection and the PBX are
// doing, in words, written only when it changes.

import { formatClock, gettext, interpolate } from "./format.js";

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

/**
 * A LiveConnection's status → {state, text, detail} for the status line.
 * @param {object} status   what LiveConnection reports
 * @param {object|null} pbx the connection's last PBX state (reason, error)
 * @param {string} forbiddenText what a 4403 means on this page
 */
export function describeStatus(status, pbx, forbiddenText) {
  if (status.connection === "forbidden") {
    return { state: "forbidden", text: forbiddenText, detail: "" };
  }
  if (status.connection === "revoked") {
    return { state: "forbidden", text: gettext("This display link has been revoked."), detail: "" };
  }
  if (status.connection === "connecting") {
    return { state: "connecting", text: gettext("Connecting…"), detail: "" };
  }
  if (status.connection === "reconnecting") {
    return { state: "reconnecting", text: gettext("Connection lost, reconnecting…"), detail: "" };
  }
  if (status.pbxOk === false) {
    const text = status.lastOkAt
      ? interpolate(gettext("PBX not answering since %s"), [formatClock(status.lastOkAt)])
      : gettext("PBX not answering");
    return { state: "pbx-down", text, detail: pbxDetail(pbx) };
  }
  if (status.stale) {
    return { state: "stale", text: gettext("Data may be out of date: no update for a while"), detail: "" };
  }
  return { state: "live", text: gettext("Live"), detail: "" };
}

/** Write a described status into its box (`data-role` text and detail), if it changed. */
export function paintStatus(box, described) {
  const { state, text, detail } = described;
  // Compared before writing: this runs every second, and a live region re-announces each change.
  if (box.dataset.state === state && box.dataset.text === text && box.dataset.detail === detail) {
    return;
  }
  box.dataset.state = state;
  box.dataset.text = text;
  box.dataset.detail = detail;
  box.querySelector("[data-role=text]").textContent = text;
  box.querySelector("[data-role=detail]").textContent = detail;
}
