// The app's entry point: the navigation bar and which view each address shows.

import { h, replace } from "./dom.js";
import { clearError, showError } from "./notify.js";
import { currentRoute, href } from "./router.js";
import { loadSession, session, signOut } from "./session.js";
import { initThemeControl } from "./theme.js";
import { renderAuthor } from "./views/author.js";
import { renderSignIn, renderSignUp } from "./views/auth.js";
import { renderCatalog } from "./views/catalog.js";
import { renderProfile } from "./views/profile.js";
import { initStanding, showStanding } from "./views/header.js";
import { renderInsight } from "./views/insight.js";
import { renderReviewQueue } from "./views/reviewqueue.js";
import { renderTree } from "./views/tree.js";

const main = document.getElementById("main");
let leaveView = null;
let shownPath = null;

function renderNav() {
  const link = (label, target) => h("a", { href: target }, label);
  const items = [link("Catalog", href())];
  if (session.user) {
    items.push(link("Profile", href("profile")));
    if (session.canAuthor) items.push(link("Author", href("author")));
    if (session.reviews) items.push(link("Reviews", href("reviews"))); // issue 14: the review queue
    items.push(
      h("span", { class: "who" }, `Signed in as ${session.user.username}`),
      h("button", { type: "button", class: "link-button", id: "sign-out", onClick: onSignOut }, "Sign out"),
    );
  } else {
    items.push(link("Sign in", href("signin")), link("Sign up", href("signup")));
  }
  replace(document.getElementById("nav"), items);
  showStanding(session.user?.profile);
}

/** A new page: focus its heading (read first by screen readers; Tab goes on from there). */
function focusHeading(view) {
  if (!view.isConnected || view.contains(document.activeElement)) return;
  const heading = view.querySelector("h1");
  if (!heading) return;
  if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  heading.focus();
}

async function onSignOut() {
  try {
    await signOut();
  } catch (error) {
    showError(error, "Signing out");
  }
  renderNav();
  if (location.hash !== href()) location.hash = href();
  else await show(true);
}

/** Called by views after a sign-in or sign-up. */
export async function afterSignIn(target) {
  renderNav();
  if (target && location.hash !== target) location.hash = target;
  else await show(true);
}

/** Show the view of the address; `force` (true) draws it anew though only its query changed. */
async function show(force) {
  const { parts, query } = currentRoute();
  const path = parts.join("/");
  // Back or forward within one view (a tree's selected skill and view): the view follows.
  if (force !== true && path === shownPath && leaveView?.update) {
    leaveView.update(query);
    return;
  }
  shownPath = path;
  if (leaveView) leaveView();
  leaveView = null;
  clearError();
  const [name, ...rest] = parts;
  // Each view draws into its own element: a slow view that finishes after the person has moved
  // on draws into an element no longer on the page.
  const view = h("div", { class: "view" }, h("p", { class: "loading" }, "Loading…"));
  main.replaceChildren(view);
  try {
    let leave;
    if (!name || name === "catalog") leave = await renderCatalog(view, query);
    else if (name === "signin") leave = await renderSignIn(view, query, afterSignIn);
    else if (name === "signup") leave = await renderSignUp(view, query, afterSignIn);
    else if (name === "trees" && rest[0] && rest[1] === "insight") leave = await renderInsight(view, rest[0]);
    else if (name === "trees" && rest[0]) leave = await renderTree(view, rest[0], query);
    else if (name === "profile") leave = await renderProfile(view);
    else if (name === "author") leave = await renderAuthor(view);
    else if (name === "reviews") leave = await renderReviewQueue(view);
    else replace(view, h("h1", {}, "Not found"), h("p", {}, "There is no page at this address."), h("a", { href: href() }, "Back to the catalog"));
    if (view.isConnected) leaveView = leave || null;
    else if (leave) leave();
    focusHeading(view);
  } catch (error) {
    if (!view.isConnected) return;
    replace(view, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, error.message || String(error)));
    showError(error);
    focusHeading(view);
  }
}

async function boot() {
  initThemeControl();
  // A tree's own page (`/trees/slug?...`, served with its link-preview tags) is the app's
  // `#/trees/slug?...`.
  const own = location.pathname.match(/^\/trees\/([^/]+)\/?$/);
  if (own && !location.hash) history.replaceState(null, "", `/#/trees/${own[1]}${location.search}`);
  try {
    await loadSession();
  } catch (error) {
    showError(error, "Loading your session");
  }
  renderNav();
  initStanding();
  window.addEventListener("hashchange", show);
  await show();
  document.documentElement.dataset.ready = "true";
}

boot();
