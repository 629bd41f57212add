// The details of one skill beside the graph: what it teaches, what it takes and gives, what is
// still missing, and the learner's (or, in edit mode, the author's) actions on it.

import { h, humanise, minutes, safeLink } from "../dom.js";
import { STATE_LABELS, missingPrerequisites } from "../graph/states.js";
import { describePolicy, selfReported } from "../policy.js";
// Issue 14, part 8: modules, quiz and project (views/learn.js).
import { learnSection } from "./learn.js";

function facts(skill) {
  const rows = [
    ["Estimated time", minutes(skill.estimatedMinutes)],
    ["XP", String(skill.xpValue)],
    ["Type", humanise(skill.skillType)],
    ["Difficulty", humanise(skill.difficulty)],
    ["Completed by", describePolicy(skill.completionPolicy)],
  ];
  return h("dl", { class: "facts" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function resourceList(skill) {
  const resources = Array.isArray(skill.resources) ? skill.resources : [];
  if (!resources.length) return null;
  return [
    h("h3", {}, "Resources"),
    h(
      "ul",
      { class: "resources" },
      resources.map((resource) =>
        h("li", {}, safeLink(resource.url, resource.title), resource.type ? h("span", { class: "muted" }, ` (${resource.type})`) : null, resource.description ? h("p", { class: "muted" }, resource.description) : null),
      ),
    ),
  ];
}

function skillLinks(title, ids, ctx, emptyText) {
  const items = ids.filter((id) => ctx.skillsById.has(id));
  if (!items.length) return emptyText ? [h("h3", {}, title), h("p", { class: "muted" }, emptyText)] : null;
  return [
    h("h3", {}, title),
    h(
      "ul",
      { class: "skill-links" },
      items.map((id) => {
        const other = ctx.skillsById.get(id);
        return h(
          "li",
          {},
          h("button", { type: "button", class: "link-button", onClick: () => ctx.open(id) }, other.name),
          h("span", { class: "muted" }, ` — ${STATE_LABELS[ctx.states.get(id)]}`),
          ctx.onRemovePrerequisite && title === "Needs first" ? h("button", { type: "button", class: "small danger", "aria-label": `Remove ${other.name} from the prerequisites`, onClick: () => ctx.onRemovePrerequisite(id) }, "Remove") : null,
        );
      }),
    ),
  ];
}

// Issue 15 part 5: the action just taken (ctx.done) keeps its button, saying what it did, so
// that the focus stays where it was (tree.js focuses [data-action=...] again).
const DONE_LABELS = { enrol: "Enrolled ✓", start: "Started ✓", complete: "Completed ✓", skip: "Skipped ✓" };

function doneButton(action) {
  return h("button", { type: "button", class: "done-action", "aria-disabled": "true", "data-action": action }, DONE_LABELS[action]);
}

function learnerActions(skill, state, ctx) {
  if (!ctx.signedIn) return h("p", {}, h("a", { href: ctx.signInHref }, "Sign in"), " to track your progress in this skill.");
  if (!ctx.enrolled) return h("p", {}, "Enrol in this tree to start its skills. ", h("button", { type: "button", "data-action": "enrol", onClick: ctx.onEnrol }, "Enrol"));
  const buttons = ctx.done && DONE_LABELS[ctx.done] ? [doneButton(ctx.done)] : [];
  if (state === "AVAILABLE") buttons.push(h("button", { type: "button", "data-action": "start", onClick: () => ctx.onAct("start", skill.id) }, "Start"));
  const open = state === "AVAILABLE" || state === "IN_PROGRESS";
  if (open && selfReported(skill.completionPolicy)) buttons.push(h("button", { type: "button", class: "primary", "data-action": "complete", onClick: () => ctx.onAct("complete", skill.id) }, "Complete"));
  if (skill.isOptional && state !== "COMPLETED" && state !== "SKIPPED") buttons.push(h("button", { type: "button", "data-action": "skip", onClick: () => ctx.onAct("skip", skill.id) }, "Skip (optional)"));
  if (state !== "COMPLETED" && state !== "SKIPPED") buttons.push(h("button", { type: "button", onClick: () => ctx.onPath(skill.id) }, "Path to this skill"));
  // Not by a click: an assessment, a project, time or another platform (issue 14) completes it.
  const elsewhere = open && !selfReported(skill.completionPolicy) ? h("p", { class: "muted policy-note" }, "This skill is not completed by marking it done: it takes ", describePolicy(skill.completionPolicy).toLowerCase(), ".") : null;
  return [elsewhere, buttons.length ? h("div", { class: "actions" }, buttons) : null];
}

function authorActions(skill, ctx) {
  const candidates = [...ctx.skillsById.values()].filter((other) => other.id !== skill.id && !skill.dependencies.includes(other.id)).sort((a, b) => a.name.localeCompare(b.name));
  const select = h("select", {}, h("option", { value: "" }, "Choose a skill…"), candidates.map((other) => h("option", { value: other.id }, other.name)));
  return h(
    "div",
    { class: "author-actions" },
    h("div", { class: "actions" }, h("button", { type: "button", onClick: () => ctx.onEdit(skill.id) }, "Edit skill"), h("button", { type: "button", class: "danger", onClick: () => ctx.onDelete(skill.id) }, "Delete skill")),
    h(
      "form",
      {
        class: "inline-form",
        onSubmit: (event) => {
          event.preventDefault();
          if (select.value) ctx.onConnect(select.value, skill.id);
        },
      },
      h("label", { class: "field" }, h("span", {}, "Add a prerequisite"), select),
      h("button", { type: "submit" }, "Add"),
    ),
  );
}

/** The panel's content for `skill` in `state`; `ctx` carries the tree's data and the actions. */
export function skillDetails(skill, state, ctx) {
  const missing = state === "LOCKED" ? missingPrerequisites(skill.id, ctx.skillsById, ctx.rows) : [];
  const badges = [h("span", { class: `state-badge state-${state.toLowerCase().replace("_", "-")}` }, STATE_LABELS[state])];
  if (skill.isMilestone) badges.push(h("span", { class: "badge badge-milestone" }, "★ Milestone"));
  if (skill.isOptional) badges.push(h("span", { class: "badge" }, "Optional"));
  const objectives = skill.learningObjectives || [];
  return [
    h("div", { class: "panel-head" }, h("h2", { id: "panel-title", tabindex: "-1" }, skill.name), h("button", { type: "button", class: "link-button close", "aria-label": "Close the details", onClick: ctx.onClose }, "Close")),
    h("p", { class: "badges" }, badges),
    skill.description ? h("p", { class: "description" }, skill.description) : null,
    facts(skill),
    objectives.length ? [h("h3", {}, "Learning objectives"), h("ul", {}, objectives.map((objective) => h("li", {}, objective)))] : null,
    resourceList(skill),
    missing.length
      ? [
          h("h3", {}, "Still missing"),
          h("p", { class: "muted" }, "Complete these first:"),
          h("ul", { class: "missing" }, missing.map((other) => h("li", {}, h("button", { type: "button", class: "link-button", onClick: () => ctx.open(other.id) }, other.name)))),
        ]
      : null,
    ctx.editing ? authorActions(skill, ctx) : learnerActions(skill, state, ctx),
    ctx.editing ? null : learnSection(skill, state, ctx),
    skillLinks("Needs first", skill.dependencies, ctx, ctx.editing ? "Nothing: it can be learned first." : null),
    skillLinks("Unlocks", skill.dependents, ctx),
  ];
}
