// The author's form for a new skill or a change to one, in a modal dialog.

import * as api from "../api.js";
import { h } from "../dom.js";
import { showProblems } from "../notify.js";
import { METHODS } from "../policy.js";

const TYPES = ["KNOWLEDGE", "PRACTICAL", "PROJECT", "ASSESSMENT", "MILESTONE"];
const DIFFICULTIES = ["BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT"];
/** The form's labels of the fields the API may name in its problems. */
const LABELS = { completionPolicy: "Completed by", skillType: "Type", xpValue: "XP" };

function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
}

function resourcesText(resources) {
  return (resources || []).map((r) => `${r.title} | ${r.url}`).join("\n");
}

function parseResources(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [title, url] = line.includes("|") ? line.split("|").map((part) => part.trim()) : [line, line];
      return { type: "link", title, url };
    });
}

/** The "Completed by" fieldset for `policy`; `read()` answers the policy it sets, or a problem. */
function policyFields(policy) {
  const checks = new Map(METHODS.map(([method, label]) => [method, h("input", { type: "checkbox", name: `method-${method}`, checked: Boolean(policy[method]) })]));
  const assessment = policy.ASSESSMENT || {};
  const passing = h("input", { name: "passingScore", type: "number", min: 0, max: 100, step: "any", value: assessment.passingScore ?? "" });
  const needed = h("input", { name: "requiredMinutes", type: "number", min: 1, max: 100000, step: 1, value: (policy.TIME_BASED || {}).minutes ?? "" });
  const fieldset = h(
    "fieldset",
    { class: "policy" },
    h("legend", {}, "Completed by"),
    METHODS.map(([method, label]) => h("label", { class: "check" }, checks.get(method), ` ${label}`)),
    h("div", { class: "row" }, field("Passing score (%)", passing, "assessment: optional, on top of its own"), field("Minutes needed", needed, "time spent: 1 or more")),
  );
  const read = () => {
    const chosen = {};
    for (const [method] of METHODS) if (checks.get(method).checked) chosen[method] = {};
    if (!Object.keys(chosen).length) return { problem: "Choose at least one way to complete the skill.", focus: checks.get("MANUAL") };
    if (chosen.ASSESSMENT && passing.value !== "") {
      const score = Number(passing.value);
      if (!(score >= 0 && score <= 100)) return { problem: "The passing score is a number from 0 to 100.", focus: passing };
      chosen.ASSESSMENT = { passingScore: score };
    }
    if (chosen.TIME_BASED) {
      const total = Number(needed.value);
      if (needed.value === "" || !Number.isInteger(total) || total < 1 || total > 100000) return { problem: "Time spent needs a whole number of minutes, from 1 to 100,000.", focus: needed };
      chosen.TIME_BASED = { minutes: total };
    }
    return { policy: chosen };
  };
  return { fieldset, read };
}

/**
 * Open the form; `skill` null adds a skill to tree `slug`. Answers a promise of the saved skill,
 * or null when the author cancels.
 */
export function editSkill(slug, skill, { types = TYPES } = {}) {
  return new Promise((resolve) => {
    const value = (name, fallback = "") => (skill && skill[name] !== null && skill[name] !== undefined ? skill[name] : fallback);
    const name = h("input", { name: "name", required: true, maxlength: 200, value: value("name") });
    const description = h("textarea", { name: "description", rows: 3 });
    description.value = value("description");
    const objectives = h("textarea", { name: "learningObjectives", rows: 3 });
    objectives.value = (value("learningObjectives", []) || []).join("\n");
    const resources = h("textarea", { name: "resources", rows: 2 });
    resources.value = resourcesText(value("resources", []));
    const skillType = h("select", { name: "skillType" }, types.map((t) => h("option", { value: t, selected: t === value("skillType", "KNOWLEDGE") }, t.toLowerCase())));
    const difficulty = h("select", { name: "difficulty" }, DIFFICULTIES.map((d) => h("option", { value: d, selected: d === value("difficulty", "BEGINNER") }, d.toLowerCase())));
    const estimated = h("input", { name: "estimatedMinutes", type: "number", min: 0, value: value("estimatedMinutes", "") });
    const xp = h("input", { name: "xpValue", type: "number", min: 0, value: value("xpValue", 10) });
    const size = h("select", { name: "nodeSize" }, [1, 2, 3].map((n) => h("option", { value: n, selected: n === value("nodeSize", 1) }, String(n))));
    const optional = h("input", { type: "checkbox", name: "isOptional", checked: Boolean(value("isOptional", false)) });
    const milestone = h("input", { type: "checkbox", name: "isMilestone", checked: Boolean(value("isMilestone", false)) });
    const policy = policyFields(value("completionPolicy", { MANUAL: {} }));
    const error = h("div", { class: "form-error", role: "alert" });
    const cancel = h("button", { type: "button" }, "Cancel");
    const save = h("button", { type: "submit", class: "primary" }, skill ? "Save changes" : "Add skill");
    const form = h(
      "form",
      { class: "skill-form", novalidate: true },
      h("h2", {}, skill ? `Edit “${skill.name}”` : "Add a skill"),
      field("Name", name),
      field("Description", description),
      field("Learning objectives", objectives, "one per line"),
      field("Resources", resources, "one per line: title | https://address"),
      h("div", { class: "row" }, field("Type", skillType), field("Difficulty", difficulty), field("Node size", size)),
      h("div", { class: "row" }, field("Estimated minutes", estimated), field("XP", xp)),
      h("div", { class: "row" }, h("label", { class: "check" }, optional, " Optional"), h("label", { class: "check" }, milestone, " Milestone")),
      policy.fieldset,
      error,
      h("div", { class: "actions" }, save, cancel),
    );
    const dialog = h("dialog", { class: "dialog", "aria-label": skill ? "Edit skill" : "Add a skill" }, form);
    const finish = (result) => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const body = {
        name: name.value.trim(),
        description: description.value.trim() || null,
        learningObjectives: objectives.value.split("\n").map((line) => line.trim()).filter(Boolean),
        resources: parseResources(resources.value),
        skillType: skillType.value,
        difficulty: difficulty.value,
        estimatedMinutes: estimated.value === "" ? null : Number(estimated.value),
        xpValue: Number(xp.value || 0),
        nodeSize: Number(size.value),
        isOptional: optional.checked,
        isMilestone: milestone.checked,
      };
      if (!body.name) {
        error.textContent = "The skill needs a name.";
        name.focus();
        return;
      }
      const completion = policy.read();
      if (completion.problem) {
        error.textContent = completion.problem;
        completion.focus.focus();
        return;
      }
      body.completionPolicy = completion.policy;
      save.disabled = true;
      try {
        const saved = skill ? await api.patch(`/skills/${encodeURIComponent(skill.id)}`, body) : await api.post(`/trees/${encodeURIComponent(slug)}/skills`, body);
        finish(saved);
      } catch (failure) {
        showProblems(error, failure, { heading: skill ? "Not saved" : "Not added", labels: LABELS });
        // The first field named is marked and focused, so the author lands where to fix it.
        for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
        const named = (failure.problem?.errors || []).map((e) => (e.loc || []).filter((part) => part !== "body")[0]).filter(Boolean);
        const inputs = named.map((field) => form.elements.namedItem(field)).filter((input) => input instanceof HTMLElement);
        for (const input of inputs) input.setAttribute("aria-invalid", "true");
        inputs[0]?.focus();
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    name.focus();
  });
}
