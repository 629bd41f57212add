// A PROJECT skill's submission in the skill panel (docs/web.md, "Project"): send the work (text
// and links), see its status and the reviewer's feedback and scores, and send it again after
// changes are asked.

import * as api from "../api.js";
import { h, replace, safeLink } from "../dom.js";

const STATUS_WORDS = {
  PENDING: "Waiting for a review",
  APPROVED: "Approved",
  CHANGES_REQUESTED: "Changes asked",
};

function date(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** The rubric's criteria, with the scores of `submission` when it has them. */
export function rubricSummary(rubric, scores) {
  if (!rubric) return null;
  return h(
    "ul",
    { class: "rubric-summary" },
    rubric.criteria.map((criterion) => {
      const top = Math.max(...criterion.levels.map((level) => level.points));
      const got = scores && criterion.id in scores ? scores[criterion.id] : null;
      const level = got === null ? null : criterion.levels.find((one) => one.points === got);
      return h(
        "li",
        {},
        h("strong", {}, criterion.name),
        got === null ? ` (up to ${top} points; at least ${criterion.minimum} to pass)` : `: ${level ? level.name : ""} (${got} of ${top})`,
      );
    }),
  );
}

function submissionView(submission, rubric) {
  return h(
    "div",
    { class: `submission submission-${submission.status.toLowerCase().replace("_", "-")}`, dataset: { submission: submission.id } },
    h("p", {}, h("strong", { class: "submission-status" }, STATUS_WORDS[submission.status]), h("span", { class: "muted" }, ` · round ${submission.round}, sent ${date(submission.submittedAt)}`)),
    submission.feedback ? [h("h4", {}, "The reviewer's feedback"), h("p", { class: "feedback" }, submission.feedback)] : null,
    submission.scores ? [h("h4", {}, "Scores"), rubricSummary(rubric, submission.scores)] : null,
  );
}

/** The project section; `onCompleted` is not needed: an approval comes later, from a reviewer. */
export function projectSection(skill, { canSubmit }) {
  const body = h("div", { class: "project-body" }, h("p", { class: "loading" }, "Loading your submissions…"));
  const section = h("section", { class: "project", "aria-labelledby": `project-${skill.id}` }, h("h3", { id: `project-${skill.id}` }, "Project"), body);
  const base = `/skills/${encodeURIComponent(skill.id)}`;

  async function load(note) {
    let submissions = [];
    let rubric = null;
    try {
      [submissions, rubric] = await Promise.all([
        canSubmit ? api.get(`${base}/submissions`, { pageSize: 5 }).then((page) => page.items) : [],
        api.get(`${base}/rubric`).catch((error) => {
          if (error.status === 404 || error.status === 401) return null;
          throw error;
        }),
      ]);
    } catch (error) {
      replace(body, h("p", { class: "error" }, `Your submissions could not be loaded: ${error.message}`));
      return;
    }
    const latest = submissions[0] || null;
    const parts = [];
    if (rubric && !latest) parts.push(h("p", { class: "muted" }, "A reviewer scores it by:"), rubricSummary(rubric, null));
    if (latest) parts.push(submissionView(latest, rubric));
    if (!canSubmit) parts.push(h("p", { class: "muted" }, "Enrol in the tree to submit your work for review."));
    else if (!latest || latest.status === "CHANGES_REQUESTED") parts.push(form(latest));
    parts.push(h("p", { class: "project-message", role: "status" }, note || ""));
    replace(body, parts);
  }

  function form(previous) {
    const text = h("textarea", { id: `project-text-${skill.id}`, rows: 5, maxlength: 20000 });
    const links = h("textarea", { id: `project-links-${skill.id}`, rows: 3, placeholder: "https://…" });
    if (previous) {
      text.value = previous.text;
      links.value = previous.links.map((link) => link.url).join("\n");
    }
    const error = h("p", { class: "form-error", role: "alert" });
    const send = h("button", { type: "submit", class: "primary" }, previous ? "Submit again" : "Submit for review");
    let sending = false;
    const node = h(
      "form",
      {
        class: "project-form",
        onSubmit: async (event) => {
          event.preventDefault();
          if (sending) return;
          sending = true;
          send.disabled = true;
          replace(error, "");
          const body = {
            text: text.value,
            links: links.value
              .split("\n")
              .map((line) => line.trim())
              .filter(Boolean)
              .map((url) => ({ url })),
          };
          try {
            await api.post(`${base}/submissions`, body);
            await load("Sent: it waits for a reviewer.");
          } catch (failure) {
            sending = false;
            send.disabled = false;
            replace(error, failure.message);
          }
        },
      },
      previous ? h("p", {}, "Change your work as asked, then send it again.") : null,
      h("label", { class: "field", for: text.id }, h("span", {}, "Your work (what you did, how to see it)"), text),
      h("label", { class: "field", for: links.id }, h("span", {}, "Links, one a line (a repository, a demo, files kept elsewhere)"), links),
      error,
      h("div", { class: "actions" }, send),
    );
    return node;
  }

  load();
  return section;
}

/** A submission's links, as links where they are http(s). */
export function submissionLinks(submission) {
  if (!submission.links.length) return null;
  return h("ul", { class: "submission-links" }, submission.links.map((link) => h("li", {}, safeLink(link.url, link.title || link.url))));
}
