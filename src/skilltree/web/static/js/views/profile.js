// The learner's profile: XP, level, streaks, achievements, activity calendar, trees in progress.

import * as api from "../api.js";
import { h, humanise, replace } from "../dom.js";
import { showError, toast } from "../notify.js";
import { href } from "../router.js";
import { session } from "../session.js";

function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "stat-value" }, String(value)), h("span", { class: "stat-label" }, label));
}

function achievementItem(achievement, earned) {
  return h(
    "li",
    { class: `achievement rarity-${String(achievement.rarity).toLowerCase()}${earned ? " earned" : ""}` },
    h("span", { class: "achievement-mark", "aria-hidden": "true" }, earned ? "★" : "☆"),
    h("div", {}, h("strong", {}, achievement.name), h("span", { class: "muted" }, ` · ${humanise(achievement.rarity)} · ${achievement.xpReward} XP`), h("p", {}, achievement.description)),
    earned
      ? h("span", { class: "muted" }, achievement.earnedAt ? `Earned ${new Date(achievement.earnedAt).toLocaleDateString()}` : "Earned")
      : h("span", { class: "achievement-progress", role: "progressbar", "aria-valuenow": Math.round(achievement.progress), "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": `${achievement.name}: ${Math.round(achievement.progress)} percent` }, `${Math.round(achievement.progress)}%`),
  );
}

/** The analytics calendar (every day of the last year, in the learner's time zone) as a grid:
 * a column a week, Monday on top; the level (0-4, also written in the square) follows XP. */
function calendar(answer) {
  const days = answer.days;
  const max = Math.max(1, ...days.map((day) => day.xp));
  const cells = [];
  if (days.length) {
    const first = new Date(`${days[0].day}T00:00:00Z`);
    for (let blank = 0; blank < (first.getUTCDay() + 6) % 7; blank += 1) cells.push(h("span", { class: "day blank", "aria-hidden": "true" }));
  }
  for (const day of days) {
    const level = day.active ? Math.max(1, Math.min(4, Math.ceil((day.xp / max) * 4))) : 0;
    const label = day.active ? `${day.day}: ${day.events} ${day.events === 1 ? "event" : "events"}, ${day.xp} XP` : `${day.day}: no activity`;
    cells.push(h("span", { class: `day level-${level}`, title: label, role: "img", "aria-label": label }, level ? String(level) : ""));
  }
  return [
    h("div", { class: "calendar", role: "group", "aria-label": "Activity in the last year, one square a day, darker and numbered 1 to 4 for more XP" }, cells),
    h("p", { class: "muted" }, `${answer.activeDays} active ${answer.activeDays === 1 ? "day" : "days"} and ${answer.xp} XP in the last year (time zone ${answer.timeZone}).`),
  ];
}

export async function renderProfile(main) {
  if (!session.user) {
    replace(main, h("h1", {}, "Profile"), h("p", {}, h("a", { href: href("signin", { next: href("profile") }) }, "Sign in"), " to see your profile."));
    return;
  }
  const [me, progress, achievements, leaders] = await Promise.all([api.get("/me"), api.get("/me/progress"), api.get("/me/achievements"), api.get("/leaderboard", { limit: 10 })]);
  const profile = progress.profile;
  const calendarBox = h("div", {}, h("p", { class: "loading" }, "Loading your activity…"));
  const reviewsBox = h("div", { id: "reviews-due" }, h("p", { class: "loading" }, "Loading your reviews…"));
  replace(
    main,
    h("h1", {}, me.firstName ? `${me.firstName}'s profile` : `${me.username}'s profile`),
    h(
      "section",
      { class: "stats", "aria-label": "Totals" },
      stat("XP", profile.totalXp),
      stat("Level", profile.currentLevel),
      stat("Current streak (days)", profile.currentStreak),
      stat("Best streak (days)", profile.maxStreak),
      stat("Skills completed", profile.skillsCompleted),
      stat("Hours learned", Math.round(profile.hoursLearned * 10) / 10),
    ),
    h("section", { "aria-labelledby": "reviews-heading" }, h("h2", { id: "reviews-heading" }, "Reviews due"), reviewsBox),
    h("section", {}, h("h2", {}, "Activity"), calendarBox),
    h(
      "section",
      {},
      h("h2", {}, "Trees in progress"),
      progress.trees.length
        ? h(
            "ul",
            { class: "tree-progress" },
            progress.trees.map((entry) =>
              h(
                "li",
                {},
                h("a", { href: href("trees", entry.tree.slug) }, entry.tree.name),
                h("div", { class: "progress", role: "progressbar", "aria-valuenow": Math.round(entry.progress.progressPercent), "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": `${entry.tree.name} progress` }, progressFill(entry.progress.progressPercent)),
                h("span", { class: "muted" }, `${Math.round(entry.progress.progressPercent)}% · ${entry.progress.skillsCompleted} of ${entry.progress.totalSkills} skills · ${humanise(entry.progress.status)}`),
              ),
            ),
          )
        : h("p", {}, "You are not enrolled in any tree yet. ", h("a", { href: href() }, "Browse the catalog")),
    ),
    h("section", {}, h("h2", {}, "Leaderboard"), leaderboard(leaders, me.username)),
    h(
      "section",
      {},
      h("h2", {}, `Achievements (${achievements.earned.length} earned)`),
      achievements.earned.length ? h("ul", { class: "achievements" }, achievements.earned.map((a) => achievementItem(a, true))) : h("p", {}, "None yet: complete a skill to earn your first."),
      achievements.available.length ? [h("h3", {}, "Ahead of you"), h("ul", { class: "achievements" }, achievements.available.map((a) => achievementItem(a, false)))] : null,
    ),
  );
  // A review names its tree: the enrolled trees give the names of their slugs.
  const treeNames = new Map(progress.trees.map((entry) => [entry.tree.slug, entry.tree.name]));
  loadReviews(reviewsBox, treeNames);
  try {
    const answer = await api.get("/analytics/me/calendar");
    replace(calendarBox, calendar(answer));
  } catch (error) {
    if (api.isMissingRoute(error)) replace(calendarBox, h("p", { class: "muted" }, "This server does not offer the activity calendar."));
    else {
      replace(calendarBox, h("p", { class: "error" }, error.message));
      showError(error, "Loading your activity");
    }
  }
}

function leaderboard(board, username) {
  const rows = board.entries.map((entry) =>
    h("tr", { class: entry.username === username ? "me" : null, "aria-current": entry.username === username ? "true" : null }, h("td", {}, String(entry.rank)), h("td", {}, entry.username), h("td", {}, String(entry.currentLevel)), h("td", {}, String(entry.totalXp))),
  );
  const mine = board.me && !board.entries.some((entry) => entry.username === username) ? h("p", {}, `Your rank: ${board.me.rank} (level ${board.me.currentLevel}, ${board.me.totalXp} XP).`) : null;
  return [
    h("table", { class: "leaderboard" }, h("thead", {}, h("tr", {}, ["Rank", "Learner", "Level", "XP"].map((title) => h("th", { scope: "col" }, title)))), h("tbody", {}, rows)),
    mine,
  ];
}

function progressFill(percent) {
  const fill = h("div", { class: "progress-fill" });
  fill.style.width = `${Math.round(percent)}%`;
  return fill;
}

// --- Reviews due (issue 14 part 8): GET /me/reviews, POST /me/reviews/{skillId} ---

const RECALLS = [
  ["AGAIN", "Again"],
  ["HARD", "Hard"],
  ["GOOD", "Good"],
  ["EASY", "Easy"],
];

/** How long ago `dueAt` came, in words ("due now", "3 days overdue"). */
function overdueWords(mastery) {
  const days = Math.floor((Date.now() - new Date(mastery.dueAt).getTime()) / 86400000);
  if (!mastery.overdue || days < 1) return "due now";
  return `${days} ${days === 1 ? "day" : "days"} overdue`;
}

async function loadReviews(box, treeNames) {
  try {
    const answer = await api.get("/me/reviews", { pageSize: 50 });
    replace(box, reviewList(answer, box, treeNames));
  } catch (error) {
    if (api.isMissingRoute(error)) replace(box, h("p", { class: "muted" }, "This server does not schedule reviews."));
    else {
      replace(box, h("p", { class: "error" }, error.message));
      showError(error, "Loading your reviews");
    }
  }
}

function reviewList(answer, box, treeNames) {
  if (!answer.items.length) return h("p", {}, "Nothing to review now: your skills are fresh.");
  const more = answer.total > answer.items.length ? h("p", { class: "muted" }, `${answer.items.length} of ${answer.total} shown, the longest due first.`) : null;
  return [h("ul", { class: "reviews-due" }, answer.items.map((mastery) => reviewItem(mastery, box, treeNames))), more];
}

function reviewItem(mastery, box, treeNames) {
  const open = href("trees", mastery.treeSlug, { skill: mastery.skillId });
  const action =
    mastery.reviewBy === "ASSESSMENT"
      ? h("div", { class: "review-actions" }, h("a", { class: "button", href: open }, `Take the review quiz: ${mastery.skillName}`))
      : h(
          "div",
          { class: "review-actions", role: "group", "aria-label": `How well do you recall ${mastery.skillName}?` },
          RECALLS.map(([recall, word]) =>
            h("button", { type: "button", "data-recall": recall, onClick: (event) => rate(mastery, recall, event.currentTarget, box, treeNames) }, word),
          ),
        );
  return h(
    "li",
    { "data-skill": mastery.skillId },
    h("a", { href: open }, h("strong", {}, mastery.skillName)),
    h("span", { class: "muted" }, ` in ${treeNames.get(mastery.treeSlug) || mastery.treeSlug} · ${humanise(mastery.level)} · ${overdueWords(mastery)}`),
    action,
  );
}

async function rate(mastery, recall, button, box, treeNames) {
  const group = button.closest(".review-actions");
  for (const other of group.querySelectorAll("button")) other.disabled = true;
  try {
    const outcome = await api.post(`/me/reviews/${encodeURIComponent(mastery.skillId)}`, { recall });
    toast(`Reviewed “${mastery.skillName}”: ${humanise(outcome.level)}, next review ${new Date(outcome.dueAt).toLocaleDateString()}.`);
    await loadReviews(box, treeNames);
    // Focus stays in the list: on the next review's link, or on the words that none is left.
    const next = box.querySelector("li a") || box.querySelector("p");
    if (next?.tagName === "P") next.setAttribute("tabindex", "-1");
    next?.focus();
  } catch (error) {
    for (const other of group.querySelectorAll("button")) other.disabled = false;
    showError(error, `Reviewing “${mastery.skillName}”`);
  }
}
