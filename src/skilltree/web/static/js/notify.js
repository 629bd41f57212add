// Telling the person what happened: a banner for errors (never swallowed), notifications for news, one at a time.

import { h, replace } from "./dom.js";
import { problemLines } from "./problems.js";

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

/**
 * Show what `error` says is wrong in `box` (a form's error element): a sentence, then one line in
 * plain words per problem with its place (`source`: the tree file's text, so that places name
 * skills and lines; `labels`: the form's field labels). Answers the lines.
 */
export function showProblems(box, error, { heading, source = null, labels = {} } = {}) {
  const lines = error?.problem ? problemLines(error.problem, { source, labels }) : [];
  if (!lines.length) {
    replace(box, error && error.message ? error.message : String(error));
    return [];
  }
  const count = lines.length === 1 ? "one problem" : `${lines.length} problems`;
  replace(box, h("span", { class: "problems-head" }, `${heading}: ${count}.`), h("ul", { class: "problems" }, lines.map((line) => h("li", {}, line))));
  return lines;
}

export function clearError() {
  const banner = document.getElementById("banner");
  banner.hidden = true;
  banner.replaceChildren();
}

// Notifications wait their turn: one is shown at a time (never a stack over the page), each for
// `timeout` ms from when it appears, or until dismissed; the next then takes its place.
const queue = [];
let showing = null;

function showNext() {
  showing = null;
  const next = queue.shift();
  if (!next) return;
  showing = next;
  const holder = document.getElementById("toasts");
  holder.append(next.box);
  holder.dataset.queued = String(queue.length);
  next.timer = setTimeout(() => dismiss(next), next.timeout);
  next.onShow?.(next.box);
}

function dismiss(entry) {
  clearTimeout(entry.timer);
  const index = queue.indexOf(entry);
  if (index !== -1) queue.splice(index, 1);
  if (!entry.box.isConnected) return;
  entry.box.remove();
  if (showing === entry) showNext();
}

/** A notification: `title`, then `lines` one under the other (text or elements); queued behind
 * any shown now. `body` (an element) replaces the lines; `onShow(box)` runs when it appears. */
export function toast(title, lines = [], { kind = "info", timeout = 7000, body = null, onShow = null } = {}) {
  const entry = { timeout, onShow, timer: null, box: null };
  entry.box = h(
    "div",
    { class: `toast toast-${kind}` },
    h(
      "div",
      { class: "toast-head" },
      h("strong", {}, title),
      h("button", { type: "button", class: "link-button toast-close", "aria-label": `Dismiss: ${title}`, onClick: () => dismiss(entry) }, "Dismiss"),
    ),
    body || (lines.length ? h("ul", {}, lines.map((line) => h("li", {}, line))) : null),
  );
  queue.push(entry);
  if (!showing) showNext();
  else document.getElementById("toasts").dataset.queued = String(queue.length);
  return entry.box;
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
