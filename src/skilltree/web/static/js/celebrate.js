// What a progress event earned, told once (issue 15, part 4): one notification per event whose
// XP lines add up (the skill's XP and each achievement's, then their sum), a celebration when a
// skill is completed (animated unless the person prefers reduced motion), the skills it unlocked
// as buttons, and the map panned to them.

import { h } from "./dom.js";
import { toast } from "./notify.js";

/** Whether the person asked their system for less motion. */
export function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** The XP an event awarded, in parts that sum to `outcome.xpAwarded`: [{xp, text}], with the
 * skill's own part first (xpAwarded counts each achievement's reward too: docs/progress.md). */
export function xpParts(skill, outcome) {
  const achievements = outcome.achievements || [];
  const fromAchievements = achievements.reduce((sum, achievement) => sum + achievement.xpReward, 0);
  const own = (outcome.xpAwarded || 0) - fromAchievements;
  const parts = [];
  if (own) parts.push({ xp: own, text: `for “${skill.name}”` });
  for (const achievement of achievements) parts.push({ xp: achievement.xpReward, text: `achievement “${achievement.name}”` });
  return parts;
}

function xpLines(skill, outcome) {
  const parts = xpParts(skill, outcome);
  const total = outcome.profile ? ` (${outcome.profile.totalXp} XP in all)` : "";
  if (!parts.length) return [];
  const lines = parts.map((part) => h("li", { class: "xp-part" }, h("span", { class: "xp-amount" }, `+${part.xp} XP`), ` ${part.text}`));
  if (parts.length > 1) lines.push(h("li", { class: "xp-sum" }, h("span", { class: "xp-amount" }, `= ${outcome.xpAwarded} XP`), total));
  else lines[0].append(total);
  return lines;
}

/** Pan (and zoom out if need be) so that every skill of `ids` is on screen; answers whether the
 * view moved. Animated over a moment, at once for reduced motion. */
export function panToSkills(graph, ids) {
  const boxes = ids.map((id) => graph.nodes.get(id)?.box).filter(Boolean);
  if (!boxes.length || !graph.container) return false;
  const width = graph.container.clientWidth || 800;
  const height = graph.container.clientHeight || 500;
  const { x: vx, y: vy, k } = graph.view;
  const onScreen = (box) => {
    const sx = vx + (box.x - graph.origin.x) * k;
    const sy = vy + (box.y - graph.origin.y) * k;
    return sx - (box.w / 2) * k >= 0 && sy - (box.h / 2) * k >= 0 && sx + (box.w / 2) * k <= width && sy + (box.h / 2) * k <= height;
  };
  if (boxes.every(onScreen)) return false;
  const left = Math.min(...boxes.map((b) => b.x - b.w / 2));
  const right = Math.max(...boxes.map((b) => b.x + b.w / 2));
  const top = Math.min(...boxes.map((b) => b.y - b.h / 2));
  const bottom = Math.max(...boxes.map((b) => b.y + b.h / 2));
  const pad = 40;
  // The zoom kept, unless the skills do not fit at it: then zoomed out just enough.
  const fits = Math.min(width / (right - left + 2 * pad), height / (bottom - top + 2 * pad));
  const target = { x: (left + right) / 2, y: (top + bottom) / 2, k: Math.min(k, fits) };
  const from = graph.viewState();
  const done = () => {
    graph.setView(target);
    graph.container.dataset.panned = ids.join(" ");
  };
  if (reducedMotion()) {
    done();
    return true;
  }
  const started = performance.now();
  let placed = { ...graph.view };
  const step = (now) => {
    // The person moved the map meanwhile (keys, wheel, drag, another pan): their move wins.
    const { x, y, k: zoom } = graph.view;
    if (!graph.container.isConnected || x !== placed.x || y !== placed.y || zoom !== placed.k) return undefined;
    const t = Math.min(1, (now - started) / 450);
    const ease = 1 - (1 - t) ** 3;
    if (t >= 1) return done();
    graph.setView({ x: from.x + (target.x - from.x) * ease, y: from.y + (target.y - from.y) * ease, k: from.k + (target.k - from.k) * ease });
    placed = { ...graph.view };
    return requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  return true;
}

function sparks() {
  // Eight sparks that fly out from the title once (CSS: .celebration .spark); none for reduced motion.
  return h("span", { class: "sparks", "aria-hidden": "true" }, Array.from({ length: 8 }, (_, i) => h("span", { class: `spark spark-${i}` })));
}

/** Tell what `outcome` of `verb` ("Completed", "Started", "Skipped") on `skill` earned.
 * `onOpen(id)` opens an unlocked skill; `graph` (optional) is panned to the unlocked skills. */
export function tellOutcome(verb, skill, outcome, { onOpen, graph } = {}) {
  const unlocked = outcome.unlocked || [];
  const celebrate = verb === "Completed" && outcome.changed;
  const items = [...xpLines(skill, outcome)];
  if (outcome.levelUp) items.push(h("li", { class: "level-up" }, `Level up! You reached level ${outcome.profile.currentLevel}.`));
  if (!outcome.changed) items.push(h("li", {}, "Nothing changed: this was already done."));
  const list = items.length ? h("ul", {}, items) : null;
  const opened = unlocked.length
    ? h(
        "div",
        { class: "unlocked" },
        h("p", {}, unlocked.length === 1 ? "Unlocked:" : `Unlocked ${unlocked.length} skills:`),
        h(
          "ul",
          {},
          unlocked.map((other) => h("li", {}, onOpen ? h("button", { type: "button", class: "link-button", onClick: () => onOpen(other.id) }, other.name) : other.name)),
        ),
      )
    : null;
  const body = h("div", { class: celebrate ? "celebration" : "outcome" }, celebrate ? sparks() : null, list, opened);
  toast(`${verb} “${skill.name}”`, [], {
    kind: celebrate ? "celebrate" : "success",
    timeout: celebrate ? 9000 : 6000,
    body,
  });
  if (graph?.container?.isConnected && unlocked.length) panToSkills(graph, unlocked.map((other) => other.id));
}
