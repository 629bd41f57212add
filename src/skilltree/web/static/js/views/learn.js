// What the skill panel offers to learn and prove a skill (issue 14, part 8; docs/web.md,
// "Learning in the skill panel"): its content modules, its quiz when it has a question bank,
// and its project submission when a reviewed project completes it. Drawn into the panel as it
// loads (GET /skills/{id}/modules says which modules and whether there is a question bank).

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { modulesSection } from "./modules.js";
import { projectSection } from "./project.js";
import { quizSection } from "./quiz.js";

/** The learning section of the panel for `skill` in `state`; `ctx` as skillpanel's. */
export function learnSection(skill, state, ctx) {
  const box = h("div", { class: "learn", "aria-busy": "true" });
  const canTrack = Boolean(ctx.signedIn && ctx.enrolled && state !== "LOCKED");
  const onCompleted = () => ctx.onLearned?.(skill.id);
  api
    .get(`/skills/${encodeURIComponent(skill.id)}/modules`)
    .then((data) => {
      const policy = skill.completionPolicy || {};
      replace(
        box,
        modulesSection(skill, data, { canTrack, onCompleted }),
        data.hasQuestionBank ? quizSection(skill, { canTake: Boolean(ctx.signedIn && ctx.enrolled), onCompleted }) : null,
        policy.PROJECT ? projectSection(skill, { canSubmit: Boolean(ctx.signedIn && ctx.enrolled) }) : null,
      );
    })
    .catch((error) => replace(box, h("p", { class: "error" }, `What this skill teaches could not be loaded: ${error.message}`)))
    .finally(() => box.removeAttribute("aria-busy"));
  return box;
}
