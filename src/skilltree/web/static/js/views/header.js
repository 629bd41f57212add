// The learner's standing in the header of every page (issue 15, part 4): level, XP with a bar to
// the next level, and the streak. Drawn from GET /me when signed in, and again after every
// progress event: views announce an event with announceProgress(outcome) and the header takes the
// outcome's totals (the same the API's /me answers next).

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { session } from "../session.js";

/** The XP at which `level` starts: 100·(level-1)² (gamification/rules.py, xp_for_level). */
export function xpForLevel(level) {
  return 100 * (level - 1) ** 2;
}

/** Where `totalXp` stands in `level`: XP gained in it, XP the level spans, XP still to go. */
export function levelSpan(totalXp, level) {
  const start = xpForLevel(level);
  const end = xpForLevel(level + 1);
  const into = Math.max(0, Math.min(end - start, totalXp - start));
  return { start, end, into, span: end - start, toGo: end - start - into };
}

const EVENT = "skilltree-progress";

/** Tell the header (and anyone listening) that a progress event answered `outcome`. */
export function announceProgress(outcome) {
  document.dispatchEvent(new CustomEvent(EVENT, { detail: outcome || null }));
}

function holder() {
  return document.getElementById("me-stats");
}

/** Draw the standing of `profile` ({totalXp, currentLevel, currentStreak}), or hide it. */
export function showStanding(profile) {
  const box = holder();
  if (!box) return;
  if (!session.user) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  // A learner with no event yet may have no profile row: they stand at the start.
  profile = profile || { totalXp: 0, currentLevel: 1, currentStreak: 0 };
  const level = profile.currentLevel;
  const xp = profile.totalXp;
  const { into, span, toGo } = levelSpan(xp, level);
  const percent = span ? Math.round((into / span) * 100) : 100;
  const fill = h("span", { class: "xp-fill" });
  fill.style.width = `${percent}%`;
  const streak = profile.currentStreak;
  replace(
    box,
    h("span", { class: "me-level" }, `Level ${level}`),
    " ",
    h(
      "span",
      {
        class: "xp-bar",
        role: "progressbar",
        "aria-label": `XP toward level ${level + 1}`,
        "aria-valuemin": 0,
        "aria-valuemax": span,
        "aria-valuenow": into,
        "aria-valuetext": `${into} of ${span} XP; ${toGo} XP to level ${level + 1}`,
        title: `${toGo} XP to level ${level + 1}`,
      },
      fill,
    ),
    " ",
    h("span", { class: "me-xp" }, `${xp} XP`),
    " ",
    h("span", { class: `me-streak${streak ? " on" : ""}` }, h("span", { "aria-hidden": "true" }, streak ? "🔥 " : ""), streak === 1 ? "1-day streak" : `${streak}-day streak`),
  );
  box.dataset.level = String(level);
  box.dataset.xp = String(xp);
  box.hidden = false;
}

async function refetch() {
  try {
    const me = await api.get("/me");
    session.user = { ...session.user, ...me };
    showStanding(me.profile);
  } catch {
    // The header is news, not work: a failed refresh keeps the last standing shown.
  }
}

/** Wire the header: draw the session's standing now, and again after every progress event. */
export function initStanding() {
  showStanding(session.user?.profile);
  document.addEventListener(EVENT, (event) => {
    if (!session.user) return;
    const profile = event.detail?.profile;
    if (profile) {
      session.user.profile = { ...(session.user.profile || {}), ...profile };
      showStanding(session.user.profile);
    } else {
      refetch();
    }
  });
}
