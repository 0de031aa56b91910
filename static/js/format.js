// Small formatting helpers shared by the panel's modules.

/** Whole seconds → "0:07", "12:34", "1:02:03". */
export function formatDuration(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * Whole seconds → "45 s", "5 min", "2 h 5 min" (Turkish "5 dk"): how long something has been so,
 * where a ticking clock would be noise (an extension free for a while, data two minutes old).
 */
export function formatSpan(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  if (seconds < 60) return interpolate(gettext("%s s"), [seconds]);
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return interpolate(gettext("%s min"), [minutes]);
  return interpolate(gettext("%s h %s min"), [Math.floor(minutes / 60), minutes % 60]);
}

/** The page's language ("tr", "en"); Turkish where there is no page (the unit tests). */
export function pageLanguage() {
  return (globalThis.document && document.documentElement.lang) || "tr";
}

/** A timestamp (ms) → "14:05" in the page's language. */
export function formatClock(ms) {
  return new Date(ms).toLocaleTimeString(pageLanguage(), {
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** Django's `interpolate` when its catalog is missing: each `%s` in turn takes the next value. */
export function interpolateFallback(format, values) {
  // One pass with a replacer: a value that itself contains "%s" is never filled in again.
  let next = 0;
  return format.replace(/%s/g, () => String(values[next++]));
}

/** An ISO date and time → "1.12.2026 14:05" in the page's language (follow-ups' due times). */
export function formatWhen(iso) {
  return new Date(iso).toLocaleString(document.documentElement.lang || "tr", {
    dateStyle: "short",
    timeStyle: "short",
  });
}

// Django's JavaScript catalog, or the text as it is when the catalog is missing. `globalThis`, not
// `window`: the unit tests import these modules in Node, where there is no window.
export const gettext = globalThis.gettext || ((text) => text);
export const interpolate = globalThis.interpolate || interpolateFallback;

/** An element with a class and text, built without innerHTML so names can never become markup. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** A customer's name linking to their admin page, in a new tab (pops and their forms). */
export function customerLink(customer) {
  const name = el("a", "pop-name", customer.name);
  name.href = customer.url;
  name.target = "_blank";
  name.rel = "noopener";
  return name;
}

/** The page's CSRF token (every page renders one in its logout form), for the scripts' POSTs. */
export function csrfToken() {
  const field = globalThis.document && document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}
