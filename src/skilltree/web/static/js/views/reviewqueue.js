// The reviewer's queue (docs/web.md, "Review queue"), at #/reviews: the pending project
// submissions of the trees the signed-in user reviews (as their author, a mentor or an admin),
// longest waiting first; claim the next one, score it with the skill's rubric, and approve it or
// ask for changes with feedback.

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { href } from "../router.js";
import { session } from "../session.js";
import { rubricSummary, submissionLinks } from "./project.js";

function date(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function waited(iso) {
  const hours = (Date.now() - Date.parse(iso)) / 3_600_000;
  if (hours < 1) return "less than an hour";
  if (hours < 48) return `${Math.floor(hours)} h`;
  return `${Math.floor(hours / 24)} days`;
}

export async function renderReviewQueue(main) {
  if (!session.user) {
    replace(main, h("h1", {}, "Review queue"), h("p", {}, h("a", { href: href("signin", { next: href("reviews") }) }, "Sign in"), " to review projects."));
    return null;
  }
  const skills = new Map();
  const rubrics = new Map();
  const status = h("p", { class: "review-message", role: "status" });
  const list = h("div", { class: "review-list" });
  const claimButton = h("button", { type: "button", class: "primary", onClick: claimNext }, "Claim the next submission");
  const order = h("select", { id: "review-order", onChange: () => load().catch((error) => replace(status, error.message)) }, h("option", { value: "oldest" }, "Longest waiting first"), h("option", { value: "newest" }, "Newest first"));
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Review queue"),
    h("p", { class: "muted" }, "Project submissions waiting for a review in the trees you review. Claim one to review it: no other reviewer gets it while your claim lasts."),
    h("div", { class: "actions review-tools" }, claimButton, h("label", { class: "field inline", for: "review-order" }, h("span", {}, "Order"), order)),
    status,
    list,
  );

  async function skillOf(id) {
    if (!skills.has(id)) skills.set(id, api.get(`/skills/${encodeURIComponent(id)}`).catch(() => ({ id, name: "A skill" })));
    return skills.get(id);
  }

  async function rubricOf(id) {
    if (!rubrics.has(id)) {
      rubrics.set(
        id,
        api.get(`/skills/${encodeURIComponent(id)}/rubric`).catch((error) => {
          if (error.status === 404) return null;
          throw error;
        }),
      );
    }
    return rubrics.get(id);
  }

  async function load(note) {
    let page;
    try {
      page = await api.get("/reviews/queue", { order: order.value, pageSize: 50 });
    } catch (error) {
      if (error.status === 403) {
        claimButton.hidden = true;
        replace(list, h("p", {}, "You review no trees: a tree's author, its mentors and admins review its projects."));
        return;
      }
      throw error;
    }
    const rows = await Promise.all(page.items.map(async (submission) => ({ submission, skill: await skillOf(submission.skillId) })));
    replace(status, note || "");
    if (!rows.length) {
      replace(list, h("p", { class: "muted" }, "Nothing waits for a review."));
      return;
    }
    const mine = rows.filter(({ submission }) => submission.claimedBy === session.user?.id);
    const forms = await Promise.all(mine.map(({ submission, skill }) => reviewForm(submission, skill)));
    replace(
      list,
      forms,
      h("h2", {}, `Waiting (${page.total})`),
      h(
        "table",
        { class: "review-table" },
        h("thead", {}, h("tr", {}, ["Skill", "Round", "Sent", "Waiting", "Claim"].map((head) => h("th", { scope: "col" }, head)))),
        h(
          "tbody",
          {},
          rows.map(({ submission, skill }) =>
            h(
              "tr",
              { dataset: { submission: submission.id } },
              h("td", {}, skill.name),
              h("td", {}, String(submission.round)),
              h("td", {}, date(submission.submittedAt)),
              h("td", {}, waited(submission.submittedAt)),
              h("td", {}, submission.claimedBy ? (submission.claimedBy === session.user?.id ? "Claimed by you" : `Claimed by another reviewer until ${date(submission.claimExpiresAt)}`) : "Free"),
            ),
          ),
        ),
      ),
    );
  }

  async function claimNext() {
    claimButton.disabled = true;
    try {
      const claimed = await api.post("/reviews/claim", undefined, { order: order.value });
      await load(claimed ? "Claimed: review it below." : "Nothing left to claim.");
      if (claimed) list.querySelector(`[data-review="${CSS.escape(claimed.id)}"] h2`)?.focus();
    } catch (error) {
      replace(status, error.message);
    } finally {
      claimButton.disabled = false;
    }
  }

  async function reviewForm(submission, skill) {
    const rubric = await rubricOf(submission.skillId);
    const id = submission.id;
    const scoreInputs = (rubric?.criteria || []).map((criterion) =>
      h(
        "fieldset",
        { class: "criterion", dataset: { criterion: criterion.id } },
        h("legend", {}, criterion.name, h("span", { class: "muted" }, ` (at least ${criterion.minimum} to approve)`)),
        criterion.description ? h("p", { class: "muted" }, criterion.description) : null,
        criterion.levels.map((level) =>
          h("label", { class: "choice" }, h("input", { type: "radio", name: `score-${id}-${criterion.id}`, value: String(level.points) }), ` ${level.name} (${level.points})`, level.description ? h("span", { class: "muted" }, ` — ${level.description}`) : null),
        ),
      ),
    );
    const feedback = h("textarea", { id: `feedback-${id}`, rows: 4 });
    const error = h("p", { class: "form-error", role: "alert" });
    const approve = h("button", { type: "button", class: "primary", onClick: () => decide("APPROVE") }, "Approve");
    const changes = h("button", { type: "button", onClick: () => decide("REQUEST_CHANGES") }, "Ask for changes");
    let deciding = false;

    async function decide(decision) {
      if (deciding) return;
      const scores = {};
      for (const criterion of rubric?.criteria || []) {
        const picked = form.querySelector(`input[name="score-${CSS.escape(id)}-${CSS.escape(criterion.id)}"]:checked`);
        if (picked) scores[criterion.id] = Number(picked.value);
      }
      if (decision === "REQUEST_CHANGES" && !feedback.value.trim()) {
        replace(error, "Write what should change: the learner reads it.");
        feedback.focus();
        return;
      }
      deciding = true;
      approve.disabled = changes.disabled = true;
      replace(error, "");
      try {
        await api.post(`/submissions/${encodeURIComponent(id)}/review`, { decision, scores, feedback: feedback.value });
        await load(decision === "APPROVE" ? `Approved “${skill.name}”: the skill is completed for its learner.` : `Changes asked for “${skill.name}”: the learner can send it again.`);
      } catch (failure) {
        deciding = false;
        approve.disabled = changes.disabled = false;
        replace(error, failure.message);
      }
    }

    const form = h(
      "section",
      { class: "review-form", dataset: { review: id }, "aria-labelledby": `review-${id}` },
      h("h2", { id: `review-${id}`, tabindex: "-1" }, `Review: ${skill.name}`),
      h("p", { class: "muted" }, `Round ${submission.round}, sent ${date(submission.submittedAt)}; your claim lasts until ${date(submission.claimExpiresAt)}.`),
      submission.text ? h("blockquote", { class: "submission-text" }, submission.text) : null,
      submissionLinks(submission),
      rubric ? [h("h3", {}, "Rubric"), scoreInputs] : h("p", { class: "muted" }, "This skill has no rubric: nothing to score."),
      h("label", { class: "field", for: feedback.id }, h("span", {}, "Feedback for the learner"), feedback),
      error,
      h("div", { class: "actions" }, approve, changes),
    );
    return form;
  }

  await load();
  return null;
}
