// Telling the person what happened: a banner for errors (never swallowed), toasts for news.

import { h, replace } from "./dom.js";

/** Show an error in words at the top of the page (and keep it until the next view or close). */
export function showError(error, context) {
  const banner = document.getElementById("banner");
  const message = error && error.message ? error.message : String(error);
  replace(
    banner,
    h("strong", {}, context ? `${context}: ` : "Error: "),
    h("span", { class: "banner-text" }, message),
    h("button", { type: "button", class: "link-button", "aria-label": "Dismiss the message", onClick: clearError }, "Dismiss"),
  );
  banner.hidden = false;
}

export function clearError() {
  const banner = document.getElementById("banner");
  banner.hidden = true;
  banner.replaceChildren();
}

/** A short message that goes away by itself; `lines` are shown one under the other. */
export function toast(title, lines = [], { kind = "info", timeout = 7000 } = {}) {
  const box = h(
    "div",
    { class: `toast toast-${kind}` },
    h("strong", {}, title),
    lines.length ? h("ul", {}, lines.map((line) => h("li", {}, line))) : null,
  );
  document.getElementById("toasts").append(box);
  setTimeout(() => box.remove(), timeout);
  return box;
}

/** Run `work`, showing any error it throws; answers its result or undefined. */
export async function attempt(context, work) {
  try {
    return await work();
  } catch (error) {
    showError(error, context);
    return undefined;
  }
}
