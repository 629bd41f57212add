// A tree's page: its graph, the learner's progress and actions, and (for its authors) editing.

import * as api from "../api.js";
import { tellOutcome } from "../celebrate.js";
import { h, humanise, minutes, replace, s } from "../dom.js";
import { layoutFor } from "../graph/layout.js";
import { GraphView } from "../graph/render.js";
import { STATE_LABELS, deriveStates, recordedRows } from "../graph/states.js";
import { attempt, showError, toast } from "../notify.js";
import { currentRoute, href } from "../router.js";
import { session } from "../session.js";
import { loadTree, withDetails } from "../treemap.js";
import { findBox } from "./findbox.js";
import { announceProgress } from "./header.js";
import { editSkill } from "./skillform.js";
import { skillDetails } from "./skillpanel.js";

const LEGEND_ICONS = {
  LOCKED: "M-5,-1 h10 v7 h-10 Z M-3,-1 v-3 a3,3 0 0 1 6,0 v3",
  AVAILABLE: "M-3,-5 L5,0 L-3,5 Z",
  IN_PROGRESS: "M0,-6 A6,6 0 1 1 0,6 A6,6 0 1 1 0,-6 M0,-6 A6,6 0 0 1 0,6 Z",
  COMPLETED: "M-5,0 L-1.5,4 L5,-4",
  SKIPPED: "M-6,-5 L0,0 L-6,5 Z M1,-5 L7,0 L1,5 Z",
};

function legend() {
  const swatch = (state) =>
    s(
      "svg",
      { class: `swatch node state-${state.toLowerCase().replace("_", "-")}`, width: 44, height: 24, viewBox: "-22 -12 44 24", "aria-hidden": "true" },
      s("rect", { class: "body", x: -20, y: -10, width: 40, height: 20, rx: 6 }),
      s("circle", { class: "icon-bg", r: 8 }),
      s("path", { class: `icon-glyph${state === "AVAILABLE" || state === "SKIPPED" ? " solid" : ""}`, d: LEGEND_ICONS[state] }),
    );
  return h(
    "ul",
    { class: "legend", "aria-label": "Legend" },
    Object.keys(STATE_LABELS).map((state) => h("li", {}, swatch(state), STATE_LABELS[state])),
    h("li", {}, h("span", { class: "legend-star", "aria-hidden": "true" }, "★"), "Milestone (double border)"),
    h("li", {}, h("span", { class: "legend-selected", "aria-hidden": "true" }), "Selected (blue outer ring)"),
    h("li", {}, h("span", { class: "legend-arrow", "aria-hidden": "true" }, "→"), "Learn first → unlocks"),
  );
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A view as the address keeps it ("x,y,zoom": the graph point at the centre), or null. */
function parseView(text) {
  const parts = (text || "").split(",").map(Number);
  return parts.length === 3 && parts.every(Number.isFinite) && parts[2] > 0 ? { x: parts[0], y: parts[1], k: parts[2] } : null;
}

function cycleWords(cycle) {
  const names = cycle.map((skill) => `“${skill.name}”`);
  const steps = [];
  for (let i = 0; i + 1 < names.length; i += 1) steps.push(`${names[i]} needs ${names[i + 1]}`);
  return steps.join(", ");
}

export async function renderTree(main, slug, query) {
  const started = performance.now();
  const page = {
    doc: null,
    rows: new Map(),
    states: new Map(),
    skillsById: new Map(),
    // Skills' details by id (GET /skills/{id}), fetched when a skill is opened; forgotten when
    // the map's structureVersion moves (any change to the tree's skills moves it).
    details: new Map(),
    selectedId: null,
    editing: false,
    view: parseView(query.get("view")) ? query.get("view") : null,
    // The action just taken ({action, skillId}; "enrol" from the head has no skill): its button
    // stays in place, saying what it did, and keeps the focus (issue 15, part 5).
    done: null,
  };
  // The selected skill and the view are kept in the address (`?skill=...&view=x,y,zoom`):
  // choosing a skill is a step back and forward go through, the view is rewritten in place.
  let restoring = false;
  let left = false;
  const user = session.user;

  const title = h("h1", {}, "…");
  const meta = h("p", { class: "meta" });
  const description = h("p", { class: "description" });
  const progressFill = h("div", { class: "progress-fill" });
  const progressText = h("span", { class: "progress-text" });
  const progressBar = h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "Progress in this tree" }, progressFill);
  const actions = h("div", { class: "actions tree-actions" });
  const editBar = h("div", { class: "edit-bar", hidden: true });
  const editStatus = h("p", { class: "edit-status", role: "status" });
  const graphBox = h("div", { class: "graph-box", id: "graph" });
  const controls = h(
    "div",
    { class: "graph-controls" },
    h("button", { type: "button", "aria-label": "Zoom in", onClick: () => graph.zoom(1.25) }, "+"),
    h("button", { type: "button", "aria-label": "Zoom out", onClick: () => graph.zoom(0.8) }, "−"),
    h("button", { type: "button", "aria-label": "Fit the whole tree", onClick: () => graph.fit() }, "Fit"),
  );
  graphBox.append(controls);
  const panel = h("aside", { class: "panel", "aria-label": "Skill details", hidden: true });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanel();
  });
  const guide = h("aside", { class: "guide", "aria-label": "Route", hidden: true });
  const list = h("details", { class: "skill-list" }, h("summary", {}, "All skills as a list"));
  const listBody = h("ol", {});
  list.append(listBody);

  const graph = new GraphView(graphBox, {
    onSelect: (id) => openSkill(id),
    onMove: (id, x, y) => moveSkill(id, x, y),
    onConnect: (from, to) => connect(from, to),
    onEdgeSelect: (from, to) => selectEdge(from, to),
    onEscape: () => {
      hideGuide();
      closePanel();
    },
    onView: (view) => {
      page.view = `${view.x},${view.y},${view.k}`;
      writeAddress(false);
    },
  });
  const viewLink = h("a", { class: "view-link", id: "view-link", href: shareAddress() }, "Link to this view");
  const tools = h(
    "div",
    { class: "graph-tools" },
    findBox(
      () => page.doc?.skills || [],
      (id) => findSkill(id),
      (id) => STATE_LABELS[page.states.get(id)] || "",
    ),
    viewLink,
  );

  /** This view's address in the app (`#/trees/slug?skill=...&view=...`). */
  function address() {
    return href("trees", slug, { skill: page.selectedId, view: page.view });
  }

  /** The address to share: the tree's own page, which link previews read (web/router.py). */
  function shareAddress() {
    const params = new URLSearchParams();
    if (page.selectedId) params.set("skill", page.selectedId);
    if (page.view) params.set("view", page.view);
    const search = params.toString();
    return `/trees/${encodeURIComponent(slug)}${search ? `?${search}` : ""}`;
  }

  /** Write the selection and view into the address: a new step (`push`) or in place. */
  function writeAddress(push) {
    viewLink.href = shareAddress();
    const { parts } = currentRoute();
    if (restoring || left || parts[0] !== "trees" || parts[1] !== slug) return;
    const target = address();
    if (location.hash === target) return;
    if (push) history.pushState(null, "", target);
    else history.replaceState(null, "", target);
  }

  /** Back, forward, or a link to this tree: show the selection and view the address holds. */
  function restore(next) {
    restoring = true;
    try {
      const id = next.get("skill");
      if (id && page.skillsById.has(id)) {
        if (page.selectedId !== id) openSkill(id, { focusPanel: false });
      } else if (page.selectedId) {
        closePanel();
      }
      const view = parseView(next.get("view"));
      if (view) {
        page.view = next.get("view");
        graph.setView(view);
      }
    } finally {
      restoring = false;
    }
    viewLink.href = shareAddress();
  }

  /** The find box's choice: pan and zoom to it, pulse it, open its details. */
  function findSkill(id) {
    // The details first: opening them narrows the map, which then centres the skill.
    openSkill(id, { focusPanel: false });
    graph.goTo(id);
    graph.focusNode(id);
  }

  replace(
    main,
    h(
      "section",
      { class: "tree-page" },
      h("div", { class: "tree-head" }, h("p", { class: "crumbs" }, h("a", { href: href() }, "Catalog")), title, meta, description, h("div", { class: "progress-row" }, progressBar, progressText), actions, editBar, editStatus),
      h("div", { class: "tree-body" }, h("div", { class: "graph-wrap" }, tools, graphBox, legend()), h("div", { class: "side" }, panel, guide)),
      list,
    ),
  );

  // Authors change their own trees, admins every tree. Where /me does not tell an admin from an
  // author, every author is offered the tools and the server's refusal is shown in words.
  const editable = () =>
    Boolean(user && session.canAuthor && page.doc && (user.role === "ADMIN" || page.doc.createdBy === user.id));

  function showProgress() {
    const progress = page.doc.progress;
    const percent = progress ? Math.round(progress.progressPercent) : 0;
    progressFill.style.width = `${percent}%`;
    progressBar.setAttribute("aria-valuenow", String(percent));
    progressBar.setAttribute("aria-valuetext", progress ? `${percent} percent` : "not enrolled");
    if (!user) progressText.textContent = "Sign in to track your progress.";
    else if (!progress) progressText.textContent = "Not enrolled yet.";
    else progressText.textContent = `${percent}% · ${progress.skillsCompleted} of ${progress.totalSkills} skills completed`;
  }

  function showHead() {
    const doc = page.doc;
    title.textContent = doc.name;
    replace(
      meta,
      [doc.category?.name, humanise(doc.difficulty), `${doc.skills.length} skills`, doc.estimatedHours ? `about ${doc.estimatedHours} h` : null].filter(Boolean).join(" · "),
      doc.isPublished ? null : h("span", { class: "badge badge-draft" }, "Draft"),
    );
    description.textContent = doc.description || doc.shortDescription || "";
    const buttons = [];
    if (user && !doc.progress) buttons.push(h("button", { type: "button", class: "primary", id: "enrol", onClick: enrol }, "Enrol"));
    else if (user && page.done?.action === "enrol" && !page.done.skillId) buttons.push(h("button", { type: "button", class: "done-action", id: "enrol", "aria-disabled": "true" }, "Enrolled ✓"));
    if (user && doc.progress) buttons.push(h("button", { type: "button", id: "what-next", onClick: whatNext }, "What next?"));
    if (!user) buttons.push(h("a", { class: "button", href: href("signin", { next: href("trees", doc.slug) }) }, "Sign in to learn"));
    if (editable()) {
      buttons.push(
        h("button", { type: "button", id: "edit-mode", "aria-pressed": String(page.editing), onClick: toggleEditing }, page.editing ? "Done editing" : "Edit graph"),
        h("button", { type: "button", id: "publish", onClick: togglePublished }, doc.isPublished ? "Unpublish" : "Publish"),
        h("a", { class: "button", id: "insight", href: href("trees", doc.slug, "insight") }, "Insight"),
      );
    }
    buttons.push(h("button", { type: "button", id: "export", onClick: exportTree }, "Export tree file"));
    replace(actions, buttons);
    editBar.hidden = !page.editing;
    if (page.editing) {
      replace(
        editBar,
        h("button", { type: "button", id: "add-skill", onClick: addSkill }, "Add skill"),
        h("p", { class: "hint" }, "The map lays itself out: a skill's row follows its prerequisites, and its place in the row is chosen so that arrows cross least. Drag a skill sideways to prefer another place in its row. Drag from a skill's bottom handle onto another skill to make it a prerequisite of that skill. Click an arrow to select it."),
      );
    }
    showProgress();
  }

  let layoutTurn = 0;

  /** Show `doc`: its head now, its graph once laid out (at once when its layout is kept). */
  async function applyDocument(doc, { keepView = false, refit = undefined } = {}) {
    if (doc.structureVersion !== page.doc?.structureVersion) page.details = new Map();
    page.doc = doc;
    page.skillsById = new Map(doc.skills.map((skill) => [skill.id, skill]));
    page.rows = recordedRows(doc.skillStates);
    page.states = deriveStates(page.skillsById, page.rows);
    showHead();
    const turn = ++layoutTurn;
    const waiting = graph.svg ? null : h("p", { class: "graph-status", role: "status" }, `Laying out ${doc.skills.length} skills…`);
    if (waiting) graphBox.append(waiting);
    const started = performance.now();
    const layout = await layoutFor(slug, doc);
    waiting?.remove();
    // A newer document arrived while this one was laid out: it is drawn instead.
    if (turn !== layoutTurn) return;
    page.layout = { source: layout.source, ms: performance.now() - started, crossings: layout.crossings };
    graphBox.dataset.layout = layout.source;
    graph.setEditing(page.editing);
    graph.render(doc, layout, page.states, { keepView });
    loadMastery();
    if (list.open) fillList();
    if (page.selectedId && page.skillsById.has(page.selectedId)) openSkill(page.selectedId, { focusPanel: false });
    else closePanel();
    // After an author's edit the map refits (once the details panel took its room): the whole
    // tree, or the skill edited, in view.
    if (refit !== undefined) graph.refit(refit);
  }

  /** The learner's mastery per completed skill, on the map (issue 14 part 8). */
  async function loadMastery() {
    if (!user) return;
    try {
      const answer = await api.get(`/me/trees/${encodeURIComponent(slug)}/mastery`);
      graph.setMastery(answer.skills);
      graphBox.dataset.mastery = "shown";
    } catch (error) {
      if (!api.isMissingRoute(error) && error.status !== 404) showError(error, "Loading your mastery");
    }
  }

  /** The tree again from the server; `edited` (after an author's edit: the skill changed, or
   * null) refits the map to it. */
  async function reload(edited = undefined) {
    const doc = await loadTree(slug, Boolean(user));
    await applyDocument(doc, { keepView: true, refit: edited });
  }

  /** Skill `id` of the map with its details, fetched once per map. */
  async function detailed(id) {
    if (!page.details.has(id)) page.details.set(id, await api.get(`/skills/${encodeURIComponent(id)}`));
    return withDetails(page.skillsById.get(id), page.details.get(id));
  }

  function fillList() {
    const order = page.doc.learningOrder?.length ? page.doc.learningOrder : page.doc.skills.map((skill) => skill.id);
    replace(
      listBody,
      order
        .filter((id) => page.skillsById.has(id))
        .map((id) => h("li", {}, h("button", { type: "button", class: "link-button", onClick: () => openSkill(id) }, page.skillsById.get(id).name), ` — ${STATE_LABELS[page.states.get(id)]}`)),
    );
  }
  list.addEventListener("toggle", () => list.open && fillList());

  // The zoom keys work anywhere on the page but in a field (the map's own keys: render.js).
  main.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || graphBox.contains(event.target)) return;
    if (event.target.closest?.("input, select, textarea, [contenteditable]")) return;
    const zoom = { "+": () => graph.zoom(1.25), "=": () => graph.zoom(1.25), "-": () => graph.zoom(0.8), 0: () => graph.fit() }[event.key];
    if (zoom && graph.svg) {
      event.preventDefault();
      zoom();
    }
  });

  // --- the details panel ---

  function openSkill(id, { focusPanel = true } = {}) {
    const skill = page.skillsById.get(id);
    if (!skill) return;
    if (page.done?.skillId && page.done.skillId !== id) page.done = null;
    page.selectedId = id;
    writeAddress(true);
    graph.select(id);
    graph.reveal(id);
    showDetails(id, focusPanel);
  }

  /** The panel of the selected skill `id`: at once when its details are here, else once they
   * have come (the panel says so meanwhile). */
  function showDetails(id, focusPanel) {
    const skill = page.skillsById.get(id);
    panel.hidden = false;
    panel.dataset.skillId = id;
    if (!page.details.has(id)) {
      replace(panel, h("div", { class: "panel-head" }, h("h2", { id: "panel-title", tabindex: "-1" }, skill.name)), h("p", { class: "muted", role: "status" }, "Loading the skill's details…"));
      if (focusPanel) panel.querySelector("#panel-title")?.focus({ preventScroll: true });
      detailed(id).then(
        () => {
          if (page.selectedId !== id || panel.dataset.skillId !== id || !page.details.has(id)) return;
          showDetails(id, panel.contains(document.activeElement));
        },
        (error) => showError(error, `Loading “${skill.name}”`),
      );
      return;
    }
    const ctx = {
      skillsById: page.skillsById,
      states: page.states,
      rows: page.rows,
      editing: page.editing,
      signedIn: Boolean(user),
      enrolled: Boolean(page.doc.progress),
      signInHref: href("signin", { next: href("trees", slug) }),
      open: (other) => {
        openSkill(other);
        graph.focusNode(other);
      },
      onClose: closePanel,
      onEnrol: enrol,
      onAct: act,
      // A quiz or module completed it: the map again, and the header's standing from GET /me.
      onLearned: () => attempt("Reloading the tree", reload).then(() => announceProgress(null)),
      onPath: pathTo,
      onEdit: (skillId) => changeSkill(skillId),
      onDelete: (skillId) => deleteSkill(skillId),
      onConnect: (from, to) => connect(from, to),
      onRemovePrerequisite: page.editing ? (from) => disconnect(from, id) : null,
      done: page.done?.skillId === id ? page.done.action : null,
    };
    replace(panel, skillDetails(withDetails(skill, page.details.get(id)), page.states.get(id), ctx));
    if (focusPanel) panel.querySelector("#panel-title")?.focus({ preventScroll: true });
  }

  function closePanel() {
    const was = page.selectedId;
    page.done = null;
    page.selectedId = null;
    if (was) writeAddress(true);
    panel.hidden = true;
    panel.replaceChildren();
    graph.select(null);
    if (was) graph.focusNode(was);
  }

  // --- learning ---

  /** After an action, focus its button again (redrawn in place, saying what it did). */
  function keepFocus(box, action) {
    const button = box.querySelector(`[data-action="${action}"]`) || box.querySelector(`#${action}`);
    if (button) button.focus({ preventScroll: true });
  }

  async function act(action, id) {
    const skill = page.skillsById.get(id);
    await attempt(`${humanise(action)} “${skill.name}”`, async () => {
      const outcome = await api.post(`/skills/${encodeURIComponent(id)}/${action}`, action === "complete" ? {} : undefined);
      const status = outcome.skill?.status;
      if (["IN_PROGRESS", "COMPLETED", "SKIPPED"].includes(status)) page.rows.set(id, status);
      else page.rows.delete(id);
      page.doc.progress = { ...(page.doc.progress || {}), ...outcome.tree };
      page.states = deriveStates(page.skillsById, page.rows);
      const changed = graph.updateStates(page.states);
      if (status === "COMPLETED") loadMastery();
      graph.clearHighlight();
      showProgress();
      if (list.open) fillList();
      page.done = { action, skillId: id };
      openSkill(id, { focusPanel: false });
      keepFocus(panel, action);
      announceProgress(outcome);
      tellOutcome({ start: "Started", complete: "Completed", skip: "Skipped" }[action], skill, outcome, {
        graph,
        onOpen: (other) => {
          openSkill(other);
          graph.focusNode(other);
        },
      });
      graph.container.dataset.lastChanged = changed.join(" ");
    });
  }

  async function enrol() {
    const fromPanel = panel.contains(document.activeElement) && page.selectedId;
    await attempt("Enrolling", async () => {
      const outcome = await api.post(`/trees/${encodeURIComponent(slug)}/enroll`);
      toast(`Enrolled in “${page.doc.name}”`, outcome.unlocked?.length ? [`Ready to learn: ${outcome.unlocked.map((s_) => s_.name).join(", ")}`] : []);
      page.done = { action: "enrol", skillId: fromPanel ? page.selectedId : null };
      await reload();
      keepFocus(fromPanel ? panel : actions, "enrol");
      announceProgress(outcome);
    });
  }

  function showGuide(heading, items, footer) {
    replace(
      guide,
      h("div", { class: "panel-head" }, h("h2", {}, heading), h("button", { type: "button", class: "link-button", onClick: hideGuide }, "Clear")),
      items.length ? h("ol", { class: "route" }, items) : h("p", {}, "Nothing left to learn here."),
      footer ? h("p", { class: "muted" }, footer) : null,
    );
    guide.hidden = false;
  }

  function hideGuide() {
    guide.hidden = true;
    graph.clearHighlight();
  }

  async function whatNext() {
    await attempt("Finding what to learn next", async () => {
      const answer = await api.get(`/me/trees/${encodeURIComponent(slug)}/next`, { limit: 5 });
      const ids = answer.recommendations.map((rec) => rec.skill.id);
      graph.highlight(ids, "next");
      showGuide(
        "What next",
        answer.recommendations.map((rec) =>
          h("li", {}, h("button", { type: "button", class: "link-button", onClick: () => openSkill(rec.skill.id) }, rec.skill.name), h("span", { class: "muted" }, ` — ${rec.reason}`)),
        ),
      );
      if (ids.length) graph.focusNode(ids[0]);
    });
  }

  async function pathTo(id) {
    await attempt("Finding the path", async () => {
      // The first 1,000 steps (the API's largest page) are drawn; the totals are the whole path's.
      const answer = await api.get(`/me/trees/${encodeURIComponent(slug)}/path`, { to: id, limit: 1000 });
      const ids = [...answer.steps.map((step) => step.id), answer.target.id];
      graph.highlight(ids, "route");
      showGuide(
        `Path to “${answer.target.name}”`,
        answer.steps.map((step) =>
          h("li", {}, h("button", { type: "button", class: "link-button", onClick: () => openSkill(step.id) }, step.name), h("span", { class: "muted" }, ` — ${STATE_LABELS[step.status]}, ${minutes(step.estimatedMinutes)}, ${step.xpValue} XP`)),
        ),
        `${answer.totalSteps} skills, ${minutes(answer.totalMinutes)}, ${answer.totalXp} XP in all` +
          (answer.totalSteps > answer.steps.length ? ` (the first ${answer.steps.length} listed).` : "."),
      );
    });
  }

  // --- authoring ---

  async function toggleEditing() {
    page.editing = !page.editing;
    editStatus.textContent = page.editing ? "Edit mode: changes are saved as you make them." : "";
    await applyDocument(page.doc, { keepView: true });
  }

  async function togglePublished() {
    await attempt(page.doc.isPublished ? "Unpublishing" : "Publishing", async () => {
      const doc = await api.patch(`/trees/${encodeURIComponent(slug)}`, { isPublished: !page.doc.isPublished });
      await reload();
      editStatus.textContent = doc.isPublished ? "Published: learners can see this tree." : "Unpublished: only you and admins see this draft.";
    });
  }

  async function exportTree() {
    await attempt("Exporting", async () => {
      const file = await api.get(`/trees/${encodeURIComponent(slug)}/export`);
      download(`${slug}.tree.json`, `${JSON.stringify(file, null, 2)}\n`);
    });
  }

  async function addSkill() {
    const saved = await editSkill(slug, null);
    if (saved) {
      page.selectedId = saved.id;
      await attempt("Reloading the tree", () => reload(saved.id));
      editStatus.textContent = `Added “${saved.name}”.`;
    }
  }

  async function changeSkill(id) {
    const saved = await editSkill(slug, await detailed(id));
    if (saved) {
      await attempt("Reloading the tree", () => reload(id));
      editStatus.textContent = `Saved “${saved.name}”.`;
    }
  }

  async function deleteSkill(id) {
    const skill = page.skillsById.get(id);
    if (!window.confirm(`Delete “${skill.name}” with its prerequisite links and learners' progress on it?`)) return;
    await attempt(`Deleting “${skill.name}”`, async () => {
      await api.del(`/skills/${encodeURIComponent(id)}`);
      page.selectedId = null;
      await reload(null);
      editStatus.textContent = `Deleted “${skill.name}”.`;
    });
  }

  async function moveSkill(id, x, y) {
    const skill = page.skillsById.get(id);
    try {
      await api.patch(`/skills/${encodeURIComponent(id)}`, { positionX: x, positionY: y });
      editStatus.textContent = `Moved “${skill.name}” (saved); the map is laid out again.`;
      await reload(id);
    } catch (error) {
      showError(error, `Moving “${skill.name}”`);
      await applyDocument(page.doc, { keepView: true });
    }
  }

  async function setDependencies(id, dependencies, done, refused) {
    try {
      await api.put(`/skills/${encodeURIComponent(id)}/dependencies`, { dependencies });
      await reload(id);
      editStatus.textContent = done;
    } catch (error) {
      if (error.code === "DependencyCycle" && Array.isArray(error.problem.cycle)) {
        refused(error.problem.cycle);
      } else {
        showError(error, "Changing the prerequisites");
      }
    }
  }

  async function connect(from, to) {
    const prerequisite = page.skillsById.get(from);
    const skill = page.skillsById.get(to);
    if (skill.dependencies.includes(from)) {
      editStatus.textContent = `“${skill.name}” already needs “${prerequisite.name}”.`;
      return;
    }
    graph.clearHighlight();
    await setDependencies(to, [...skill.dependencies, from], `“${skill.name}” now needs “${prerequisite.name}”.`, (cycle) => {
      const ids = cycle.map((step) => step.id);
      const edges = [];
      for (let i = 0; i + 1 < ids.length; i += 1) edges.push([ids[i + 1], ids[i]]);
      graph.highlight(ids, "cycle", { edges });
      graph.showRefusedEdge(from, to);
      const message = `“${skill.name}” cannot need “${prerequisite.name}”, because that would close a cycle: ${cycleWords(cycle)}. The cycle is highlighted in the graph.`;
      editStatus.textContent = "";
      showError(new Error(message), "Prerequisite refused");
    });
  }

  async function disconnect(from, to) {
    const prerequisite = page.skillsById.get(from);
    const skill = page.skillsById.get(to);
    await setDependencies(to, skill.dependencies.filter((id) => id !== from), `“${skill.name}” no longer needs “${prerequisite.name}”.`, () => {});
  }

  function selectEdge(from, to) {
    const prerequisite = page.skillsById.get(from);
    const skill = page.skillsById.get(to);
    graph.selectEdge(from, to);
    const remove = h("button", { type: "button", class: "danger", id: "remove-edge", onClick: () => disconnect(from, to) }, "Remove this prerequisite");
    replace(editStatus, `Selected: “${skill.name}” needs “${prerequisite.name}”. `, remove);
    remove.focus();
  }

  // --- first load ---

  const doc = await loadTree(slug, Boolean(user));
  const fetched = performance.now();
  document.title = `${doc.name} · SkillTree`;
  await applyDocument(doc);
  const built = performance.now();
  restoring = true;
  if (query.get("skill") && page.skillsById.has(query.get("skill"))) openSkill(query.get("skill"), { focusPanel: false });
  if (parseView(query.get("view"))) graph.setView(parseView(query.get("view")));
  restoring = false;
  // Two frames: the first runs before the graph is painted, the second after.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      const painted = performance.now();
      window.skilltreeMetrics = {
        skills: doc.skills.length,
        documentMs: fetched - started,
        buildMs: built - fetched,
        renderMs: painted - fetched,
        firstRenderMs: painted,
        layoutMs: page.layout.ms,
        layoutSource: page.layout.source,
        crossings: page.layout.crossings,
      };
      graphBox.dataset.rendered = "true";
    }),
  );
  const leave = () => {
    left = true;
  };
  leave.update = restore;
  return leave;
}
