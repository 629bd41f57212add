// The catalog's part of the learning loop (issue 15, part 4): "continue learning" (the tree the
// learner worked on last, and its next skill from GET /me/trees/{slug}/next) and the learner's
// progress on each tree card (GET /me/progress).

import * as api from "../api.js";
import { h, humanise } from "../dom.js";
import { href } from "../router.js";
import { session } from "../session.js";

/** The learner's progress by tree slug ({} when signed out or when it cannot be read). */
export async function progressBySlug() {
  if (!session.user) return { bySlug: new Map(), trees: [] };
  const answer = await api.get("/me/progress");
  return { bySlug: new Map(answer.trees.map((entry) => [entry.tree.slug, entry])), trees: answer.trees };
}

function bar(percent, label) {
  const fill = h("div", { class: "progress-fill" });
  fill.style.width = `${Math.round(percent)}%`;
  return h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(percent), "aria-label": label }, fill);
}

/** A tree card's line of the learner's progress in it (null when not enrolled). */
export function cardProgress(entry) {
  if (!entry) return null;
  const p = entry.progress;
  const percent = Math.round(p.progressPercent);
  return h(
    "div",
    { class: "card-progress" },
    bar(p.progressPercent, `Your progress in ${entry.tree.name}`),
    h("span", { class: "muted" }, p.status === "COMPLETED" ? `Completed · ${p.skillsCompleted} of ${p.totalSkills} skills` : `${percent}% · ${p.skillsCompleted} of ${p.totalSkills} skills`),
  );
}

/** The tree to continue: not completed, the latest activity (or start) first. */
export function treeToContinue(trees) {
  const open = trees.filter((entry) => entry.progress.status !== "COMPLETED");
  const when = (entry) => Date.parse(entry.progress.lastActivityAt || entry.progress.startedAt || 0) || 0;
  open.sort((a, b) => when(b) - when(a));
  return open[0] || null;
}

/** The "continue learning" section for `trees` (null when there is nothing to continue). */
export async function continueLearning(trees) {
  const entry = treeToContinue(trees);
  if (!entry) return null;
  const slug = entry.tree.slug;
  const answer = await api.get(`/me/trees/${encodeURIComponent(slug)}/next`, { limit: 1 });
  const next = answer.recommendations[0];
  return h(
    "section",
    { class: "card continue", "aria-labelledby": "continue-title" },
    h("h2", { id: "continue-title" }, "Continue learning"),
    h("p", { class: "continue-tree" }, h("a", { href: href("trees", slug) }, entry.tree.name), h("span", { class: "muted" }, ` · ${humanise(entry.progress.status)}`)),
    cardProgress(entry),
    next
      ? h(
          "p",
          { class: "continue-next" },
          "Next: ",
          h("a", { class: "button primary", href: href("trees", slug, { skill: next.skill.id }) }, next.skill.name),
          h("span", { class: "muted" }, ` ${next.reason}`),
        )
      : h("p", { class: "muted" }, "Nothing is open to learn in this tree right now."),
  );
}
