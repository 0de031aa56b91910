// An unknown caller added as a customer from their screen-pop, without leaving the call for the
// admin: a short form in the card for users who may add customers. The server asks for a poll at
// once, so every open panel (this one's table included) shows the name within a poll.

import { csrfToken, customerLink, el, gettext, interpolate } from "./format.js";

/**
 * What the panel page allows: whether this user may add customers, and where to POST. Read from
 * the page's own config (`#panel-config`) when a card needs it, so nothing is kept between cards.
 */
export function addCallerOptions(doc = globalThis.document) {
  const node = doc && doc.getElementById("panel-config");
  const config = node ? JSON.parse(node.textContent) : {};
  return { allowed: config.canAddCustomer === true, url: config.addCallerUrl || "" };
}

/**
 * The body of an unknown caller's card: "Unknown caller", and for users who may add customers
 * the form, with the admin's add form as a secondary way (it takes every field of a customer).
 *
 * @param {object} call     the live `Call` (docs/websocket-protocol.md)
 * @param {object} caller   the caller card data (`add_url`: the admin's form, number prefilled)
 * @param {{allowed: boolean, url: string}} options
 */
export function unknownCallerBody(call, caller, options = addCallerOptions()) {
  const box = el("div", "add-caller");
  box.append(el("p", "pop-unknown", gettext("Unknown caller")));
  if (options.allowed) box.append(new AddCallerForm({ call, caller, url: options.url, box }).form);
  return box;
}

/** The form's fields, in the order the POST (and the server's form) names them. */
const FIELDS = [
  { name: "name", label: gettext("Name"), tag: "input", required: true, maxLength: 200 },
  { name: "company", label: gettext("Company"), tag: "input", maxLength: 200 },
  { name: "notes", label: gettext("Notes"), tag: "textarea", maxLength: 5000 },
];

export class AddCallerForm {
  /**
   * @param {object} options
   * @param {object} options.call    the live call: `src` is sent, `src_display` shown
   * @param {object} options.caller  the caller card data (`add_url`)
   * @param {string} options.url     POST endpoint (`addCallerUrl`)
   * @param {HTMLElement} options.box  what the saved customer replaces
   */
  constructor(options) {
    this.options = options;
    this.inputs = {};
    this.form = this.render();
  }

  render() {
    const { call, caller } = this.options;
    const form = el("form", "add-caller-form");
    // The server checks the fields and says what is wrong in the user's language, in one place.
    form.noValidate = true;
    form.setAttribute("aria-label", gettext("Add the caller as a customer"));
    for (const field of FIELDS) form.append(this.renderField(field, call));
    form.append(this.renderNumber(call));
    this.error = el("p", "error add-caller-error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    this.save = el("button", "add-caller-save", gettext("Save"));
    this.save.type = "submit";
    const admin = el("a", "pop-add", gettext("Open in admin"));
    admin.href = caller.add_url;
    admin.target = "_blank";
    admin.rel = "noopener";
    const actions = el("div", "add-caller-actions");
    actions.append(this.save, admin);
    form.append(this.error, actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    return form;
  }

  renderField(field, call) {
    const id = fieldId(field.name, call);
    const label = el("label", null, field.label);
    label.htmlFor = id;
    const input = el(field.tag);
    input.id = id;
    input.name = field.name;
    input.maxLength = field.maxLength;
    input.required = field.required === true;
    input.autocomplete = "off"; // the browser's suggestions would be the agent's own details
    if (field.tag === "textarea") input.rows = 2;
    this.inputs[field.name] = input;
    const wrap = el("div", `add-caller-field add-caller-${field.name}`);
    wrap.append(label, input);
    return wrap;
  }

  /** The number the customer gets: the caller's, as shown, never typed (so never mistyped). */
  renderNumber(call) {
    const id = fieldId("number", call);
    const label = el("label", null, gettext("Phone"));
    label.htmlFor = id;
    const input = el("input");
    input.id = id;
    input.readOnly = true;
    input.value = call.src_display;
    const wrap = el("div", "add-caller-field add-caller-number");
    wrap.append(label, input);
    return wrap;
  }

  /** The POST's body: the caller as the PBX sent it (the server stores it as E.164). */
  body() {
    const body = new FormData();
    body.append("number", this.options.call.src);
    for (const field of FIELDS) body.append(field.name, this.inputs[field.name].value);
    return body;
  }

  async submit() {
    if (this.save.disabled) return; // a second Enter while the first is on its way
    this.save.disabled = true;
    this.showError("");
    // The poll the server asks for may bring the customer before its answer does: the card then
    // waits for this answer rather than reloading itself (screen-pop.js, customerFound).
    const card = this.options.box.closest(".pop");
    if (card) card.classList.add("is-adding");
    const outcome = await postCustomer(this.options.url, this.body());
    if (card) card.classList.remove("is-adding");
    this.save.disabled = false;
    if (outcome.customer) this.showSaved(outcome.customer);
    else this.showError(outcome.error);
  }

  /** The server's answer next to the form; what was typed stays where it was. */
  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
    if (text && !this.inputs.name.value.trim()) this.inputs.name.focus();
  }

  /** The form gives way to the customer it created; the card is an unknown caller's no more. */
  showSaved(customer) {
    const { box } = this.options;
    const block = el("section", "pop-customer add-caller-saved");
    block.append(el("p", "add-caller-done", gettext("Added as a customer.")));
    block.append(customerLink(customer));
    if (customer.company) block.append(el("p", "pop-company", customer.company));
    box.replaceChildren(block);
    const card = box.closest(".pop");
    if (card) card.classList.remove("is-unknown"); // so the diff with the customer leaves it be
  }
}

/**
 * POST the form; `{customer}` when it was created, else `{error}` in words: the server's own
 * message for a 400 or 403, the status when the answer is not ours (a proxy's page).
 */
export async function postCustomer(url, body, fetcher = globalThis.fetch) {
  let response;
  try {
    response = await fetcher(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
  } catch {
    return { error: gettext("The server could not be reached. Try again.") };
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok && data.customer) return { customer: data.customer };
  return { error: data.error || interpolate(gettext("Failed (HTTP %s)."), [response.status]) };
}

/** A label's target, unique on the page: one card per call, and the call's key is plain hex. */
function fieldId(name, call) {
  return `add-caller-${name}-${call.key}`;
}

