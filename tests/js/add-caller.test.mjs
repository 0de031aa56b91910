// What the screen-pop's "add the caller" form makes of the server's answers (the network part of
// static/js/add-caller.js; the form itself is driven in Chromium by tests/e2e/test_add_caller.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { addCallerOptions, postCustomer } from "../../static/js/add-caller.js";

const URL = "/calls/caller/customer/";

/** A fetch that answers once, as the server (or something in front of it) would. */
function answering(status, body) {
  const requests = [];
  const fetcher = async (url, init) => {
    requests.push({ url, init });
    return {
      ok: status >= 200 && status < 300,
      status,
      json: async () => (typeof body === "string" ? JSON.parse(body) : body),
    };
  };
  return { fetcher, requests };
}

test("a created customer comes back for the card to show", async () => {
  const url = "/admin/customers/customer/9/change/";
  const customer = { id: 9, name: "Mehmet Kaya", company: "", url };
  const { fetcher, requests } = answering(200, { ok: true, customer });
  const body = new FormData();
  body.append("name", "Mehmet Kaya");

  assert.deepEqual(await postCustomer(URL, body, fetcher), { customer });
  assert.equal(requests[0].url, URL);
  assert.equal(requests[0].init.method, "POST");
  assert.equal(requests[0].init.body.get("name"), "Mehmet Kaya");
  assert.ok("X-CSRFToken" in requests[0].init.headers);
});

test("a refused form shows the server's own words", async () => {
  const { fetcher } = answering(400, { ok: false, error: "Bu alan zorunludur." });
  assert.deepEqual(await postCustomer(URL, new FormData(), fetcher), { error: "Bu alan zorunludur." });
});

test("an answer that is not the server's JSON (a proxy's error page) names its status", async () => {
  const { fetcher } = answering(502, "<html>Bad Gateway</html>");
  assert.deepEqual(await postCustomer(URL, new FormData(), fetcher), { error: "Failed (HTTP 502)." });
});

test("a 200 without a customer is no success", async () => {
  const { fetcher } = answering(200, {});
  assert.deepEqual(await postCustomer(URL, new FormData(), fetcher), { error: "Failed (HTTP 200)." });
});

test("no answer at all asks to try again", async () => {
  const fetcher = async () => {
    throw new TypeError("Failed to fetch");
  };
  assert.deepEqual(await postCustomer(URL, new FormData(), fetcher), {
    error: "The server could not be reached. Try again.",
  });
});

test("only a page that says so lets its user add customers", () => {
  const page = (config) => ({
    getElementById: (id) => (id === "panel-config" ? { textContent: JSON.stringify(config) } : null),
  });
  assert.deepEqual(addCallerOptions(page({ canAddCustomer: true, addCallerUrl: URL })), {
    allowed: true,
    url: URL,
  });
  assert.equal(addCallerOptions(page({ canAddCustomer: false, addCallerUrl: URL })).allowed, false);
  assert.equal(addCallerOptions(page({})).allowed, false);
  assert.equal(addCallerOptions({ getElementById: () => null }).allowed, false);
});
