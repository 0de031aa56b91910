// The supervisor's hang-up: confirm naming the caller, show progress and the result in words.
// The row itself leaves when the server's next diff says the call ended.

import { csrfToken, gettext, interpolate } from "./format.js";

export class HangupDialog {
  /**
   * @param {object} options
   * @param {HTMLDialogElement} options.dialog
   * @param {string} options.url  POST endpoint
   */
  constructor(options) {
    this.options = options;
    this.dialog = options.dialog;
    this.question = this.dialog.querySelector("[data-role=question]");
    this.result = this.dialog.querySelector("[data-role=result]");
    this.confirmButton = this.dialog.querySelector("[data-role=confirm]");
    this.cancelButton = this.dialog.querySelector("[data-role=cancel]");
    this.call = null;
    this.confirmButton.addEventListener("click", () => this.confirm());
    this.cancelButton.addEventListener("click", () => this.dialog.close());
  }

  open(call) {
    this.call = call;
    const who = call.customer ? `${call.customer.name} (${call.src_display})` : call.src_display;
    this.question.textContent = interpolate(
      gettext("End the call from %s to %s?"),
      [who, call.dst_display],
    );
    this.setResult("", null);
    this.confirmButton.disabled = false;
    this.confirmButton.hidden = false;
    this.cancelButton.textContent = gettext("Cancel");
    this.dialog.showModal();
    this.cancelButton.focus(); // the safe choice has the focus
  }

  async confirm() {
    this.confirmButton.disabled = true;
    this.setResult(gettext("Ending the call…"), "progress");
    const body = new FormData();
    body.append("channel", this.call.channel);
    let outcome;
    try {
      const response = await fetch(this.options.url, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      outcome = response.ok
        ? { ok: true, text: gettext("The call was ended.") }
        : { ok: false, text: data.error || interpolate(gettext("Failed (HTTP %s)."), [response.status]) };
    } catch {
      outcome = { ok: false, text: gettext("The server could not be reached. Try again.") };
    }
    this.setResult(outcome.text, outcome.ok ? "ok" : "error");
    this.confirmButton.hidden = outcome.ok;
    this.confirmButton.disabled = false;
    this.cancelButton.textContent = gettext("Close");
    if (outcome.ok) setTimeout(() => this.dialog.open && this.dialog.close(), 1500);
  }

  setResult(text, kind) {
    this.result.textContent = text;
    this.result.dataset.kind = kind || "";
  }
}

