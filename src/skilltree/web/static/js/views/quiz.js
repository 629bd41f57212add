// A skill's quiz in the skill panel (docs/web.md, "Quiz"): start an attempt (the server draws
// the questions, without answers), answer with a timer when the bank has a time limit, submit
// once, and only then see the results with their explanations. A pass completes the skill.

import * as api from "../api.js";
import { h, humanise, replace } from "../dom.js";

/** The last submitted attempt by skill id: a panel drawn again (after the map updates) shows it. */
const lastResults = new Map();
let ticking = null;

function stopTimer() {
  if (ticking) clearInterval(ticking);
  ticking = null;
}

function when(iso) {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? `today at ${date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}` : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** A refusal to start an attempt, in plain words. */
export function refusalWords(error) {
  const problem = error.problem || {};
  if (error.code === "AttemptNotAllowedYet") {
    const next = problem.retryAt ? when(problem.retryAt) : "later";
    if (problem.reason === "AttemptLimit") return `You have used all of today's attempts at this quiz. Your next attempt is allowed ${next}.`;
    return `Take a break before trying again: your next attempt is allowed ${next}.`;
  }
  if (error.code === "SkillLocked") return "This quiz opens once you have completed the skills it needs first.";
  return error.message;
}

function clock(seconds) {
  const left = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}

function percent(score) {
  return `${Math.round(Number(score) * 10) / 10}%`;
}

function questionInput(question, index) {
  const name = `q-${question.id}`;
  const legend = h("legend", {}, h("span", { class: "muted" }, `Question ${index + 1} · ${question.points} ${question.points === 1 ? "point" : "points"}: `), question.prompt);
  const options = question.options || [];
  if (question.kind === "SINGLE_CHOICE" || question.kind === "MULTIPLE_CHOICE") {
    const type = question.kind === "SINGLE_CHOICE" ? "radio" : "checkbox";
    const boxes = options.map((option) => h("label", { class: "choice" }, h("input", { type, name, value: option.id }), ` ${option.text}`));
    const fieldset = h("fieldset", { class: "question", dataset: { question: question.id } }, legend, question.kind === "MULTIPLE_CHOICE" ? h("p", { class: "muted hint" }, "Choose every right answer.") : null, boxes);
    const answer = () => {
      const picked = [...fieldset.querySelectorAll("input:checked")].map((input) => input.value);
      return type === "radio" ? picked[0] ?? null : picked;
    };
    return { node: fieldset, answer };
  }
  if (question.kind === "ORDERING") {
    const list = h("ol", { class: "ordering" });
    const draw = (items) => {
      replace(
        list,
        items.map((option, at) =>
          h(
            "li",
            { dataset: { option: option.id } },
            h("span", { class: "ordering-text" }, option.text),
            h("button", { type: "button", class: "small", disabled: at === 0, "aria-label": `Move “${option.text}” up`, onClick: () => move(items, at, -1) }, "↑"),
            h("button", { type: "button", class: "small", disabled: at === items.length - 1, "aria-label": `Move “${option.text}” down`, onClick: () => move(items, at, 1) }, "↓"),
          ),
        ),
      );
    };
    const move = (items, at, by) => {
      const next = [...items];
      [next[at], next[at + by]] = [next[at + by], next[at]];
      current = next;
      draw(next);
      list.querySelectorAll("li")[at + by]?.querySelector(`button[aria-label*="${by < 0 ? "up" : "down"}"]:not([disabled])`)?.focus();
    };
    let current = [...options];
    draw(current);
    const fieldset = h("fieldset", { class: "question", dataset: { question: question.id } }, legend, h("p", { class: "muted hint" }, "Put the items in order with the arrow buttons."), list);
    return { node: fieldset, answer: () => current.map((option) => option.id) };
  }
  const input = h("input", { type: "text", name, id: name, autocomplete: "off", inputmode: question.kind === "NUMERIC" ? "decimal" : null });
  const fieldset = h("fieldset", { class: "question", dataset: { question: question.id } }, legend, h("label", { class: "field", for: name }, h("span", {}, question.kind === "NUMERIC" ? "Your answer (a number)" : "Your answer"), input));
  return { node: fieldset, answer: () => (input.value.trim() === "" ? null : input.value) };
}

function resultsView(attempt) {
  const byId = new Map(attempt.questions.map((question) => [question.id, question]));
  const passed = attempt.passed;
  return h(
    "div",
    { class: "quiz-results", dataset: { attempt: attempt.id } },
    h("h4", { id: `results-${attempt.id}`, tabindex: "-1" }, passed ? "Passed" : attempt.expired ? "Time ran out" : "Not passed yet"),
    h(
      "p",
      { class: passed ? "quiz-passed" : "quiz-failed", role: "status" },
      `Your score: ${percent(attempt.score)}. `,
      passed ? (attempt.completion ? "The skill is completed." : "Well done.") : attempt.expired ? "The answers came after the time limit, so they count for nothing." : "Read the explanations, then try again.",
    ),
    attempt.mastery ? h("p", { class: "quiz-review" }, `Review recorded: ${humanise(attempt.mastery.level)}, next review ${new Date(attempt.mastery.dueAt).toLocaleDateString()}.`) : null,
    h(
      "ol",
      { class: "results" },
      (attempt.results || []).map((result) =>
        h(
          "li",
          { class: result.correct ? "right" : "wrong" },
          h("p", {}, h("strong", {}, result.correct ? "✓ Right: " : "✗ Wrong: "), byId.get(result.questionId)?.prompt || result.questionId, h("span", { class: "muted" }, ` (${result.earned} of ${result.points})`)),
          result.explanation ? h("p", { class: "explanation" }, result.explanation) : null,
        ),
      ),
    ),
  );
}

/**
 * The quiz section: `ctx.onCompleted()` is called when a passed attempt completed the skill
 * (the map then updates).
 */
export function quizSection(skill, { canTake, onCompleted }) {
  const body = h("div", { class: "quiz-body" });
  const section = h("section", { class: "quiz", "aria-labelledby": `quiz-${skill.id}` }, h("h3", { id: `quiz-${skill.id}` }, "Quiz"), body);
  const message = h("p", { class: "quiz-message", role: "status" });

  /** The learner's latest attempt from GET /skills/{id}/attempts (when none is in memory). */
  let latest = null;
  const showStart = (note) => {
    const last = lastResults.get(skill.id);
    const open = !last && latest && !latest.submittedAt && (!latest.expiresAt || Date.parse(latest.expiresAt) > Date.now());
    const label = open ? "Continue your attempt" : (last && !last.passed) || (!last && latest?.submittedAt && !latest.passed) ? "Try again" : "Start the quiz";
    const start = h("button", { type: "button", class: "primary", onClick: () => begin(start) }, label);
    const before = !last && latest?.submittedAt ? h("p", { class: "quiz-last" }, `Your last attempt: ${percent(latest.score)}, ${latest.passed ? "passed" : "not passed"} (${when(latest.submittedAt)}).`) : null;
    replace(body, last ? resultsView(last) : before, canTake ? h("p", { class: "muted" }, "The questions are drawn for you when you start; the answers are shown after you submit.") : h("p", { class: "muted" }, "Enrol in the tree to take this quiz."), canTake && !(last && last.passed) ? h("div", { class: "actions" }, start) : null, message);
    replace(message, note || "");
  };

  async function begin(button) {
    button.disabled = true;
    try {
      const attempt = await api.post(`/skills/${encodeURIComponent(skill.id)}/attempts`);
      showAttempt(attempt);
    } catch (error) {
      button.disabled = false;
      replace(message, refusalWords(error));
      message.classList.add("error");
    }
  }

  function showAttempt(attempt) {
    stopTimer();
    const inputs = attempt.questions.map((question, index) => ({ id: question.id, ...questionInput(question, index) }));
    const submit = h("button", { type: "submit", class: "primary" }, "Submit answers");
    const timer = attempt.expiresAt ? h("p", { class: "quiz-timer", role: "timer", "aria-live": "off" }) : null;
    const form = h("form", { class: "quiz-form", dataset: { attempt: attempt.id } }, timer, inputs.map((input) => input.node), h("div", { class: "actions" }, submit), message);
    let submitting = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      // One submit: the button is disabled at once, and a second click finds `submitting` set.
      if (submitting) return;
      submitting = true;
      submit.disabled = true;
      replace(submit, "Submitting…");
      const answers = {};
      for (const input of inputs) answers[input.id] = input.answer();
      try {
        const graded = await api.post(`/attempts/${encodeURIComponent(attempt.id)}/submit`, { answers });
        stopTimer();
        lastResults.set(skill.id, graded);
        showStart();
        body.querySelector(`#results-${CSS.escape(graded.id)}`)?.focus();
        // A review attempt (issue 14 part 8) moves the skill's mastery: the map shows it anew.
        if (graded.completion || graded.mastery) onCompleted(graded);
      } catch (error) {
        submitting = false;
        submit.disabled = false;
        replace(submit, "Submit answers");
        replace(message, error.message);
        message.classList.add("error");
      }
    });
    replace(body, attempt.repeated ? h("p", { class: "muted" }, "You have an attempt open: here it is again.") : null, form);
    replace(message, "");
    if (timer) {
      const deadline = Date.parse(attempt.expiresAt);
      const tick = () => {
        if (!timer.isConnected) return stopTimer();
        const left = (deadline - Date.now()) / 1000;
        if (left <= 0) {
          stopTimer();
          replace(timer, "Time is up. Submit to see your results: answers after the limit count for nothing.");
          timer.classList.add("error");
          return;
        }
        replace(timer, `Time left: ${clock(left)}`);
      };
      tick();
      ticking = setInterval(tick, 1000);
    }
  }

  showStart();
  if (canTake && !lastResults.has(skill.id)) {
    api
      .get(`/skills/${encodeURIComponent(skill.id)}/attempts`, { pageSize: 1 })
      .then((page) => {
        latest = page.items[0] || null;
        // Still showing the start (not an attempt begun meanwhile): say what came before.
        if (latest && body.contains(message) && !body.querySelector("form")) showStart(message.textContent);
      })
      .catch((error) => replace(message, `Your earlier attempts could not be loaded: ${error.message}`));
  }
  return section;
}

/** Stop the quiz's timer (the panel closed or the view left). */
export function leaveQuiz() {
  stopTimer();
}
