// A skill's content modules in the skill panel (docs/web.md, "Learning in the skill panel"):
// each a disclosure with its text (Markdown, rendered safely), its video (embedded only from an
// allowed player) and its links. While a module is open and the page is shown, heartbeats tell
// the server the learner is on it (the server measures the time between them).

import * as api from "../api.js";
import { h, minutes, replace, safeLink } from "../dom.js";
import { embedAddress } from "../embeds.js";
import { renderMarkdown } from "../markdown.js";

/** The module open in the panel, by skill id: a panel drawn again keeps it open. */
const openModules = new Map();
/** The heartbeat running now (one at a time): { key, timer, stop }. */
let beating = null;

function stopBeating() {
  if (beating) clearInterval(beating.timer);
  beating = null;
}

function spent(seconds) {
  const whole = Math.floor((seconds || 0) / 60);
  return whole < 1 ? "less than a minute" : minutes(whole);
}

function resourceNode(resource, moduleType) {
  const player = resource.type === "embed" || moduleType === "video" ? embedAddress(resource.url) : null;
  if (player) {
    return h(
      "figure",
      { class: "module-video" },
      h("iframe", {
        src: player,
        title: resource.title,
        loading: "lazy",
        allow: "encrypted-media; picture-in-picture; fullscreen",
        referrerpolicy: "strict-origin-when-cross-origin",
        sandbox: "allow-scripts allow-same-origin allow-presentation",
      }),
      h("figcaption", {}, safeLink(resource.url, resource.title)),
    );
  }
  return h("li", {}, safeLink(resource.url, resource.title), h("span", { class: "muted" }, ` (${resource.type})`));
}

function moduleBody(module) {
  const videos = [];
  const links = [];
  for (const resource of module.resources || []) {
    const node = resourceNode(resource, module.type);
    (node.tagName === "FIGURE" ? videos : links).push(node);
  }
  return [
    videos,
    module.body ? h("div", { class: "markdown" }, renderMarkdown(module.body, { headingBase: 4 })) : null,
    links.length ? h("ul", { class: "module-links" }, links) : null,
  ];
}

/**
 * The modules section for `skill`: `data` is GET /skills/{id}/modules's answer. `canTrack`:
 * the learner is enrolled and the skill open, so heartbeats count. `onCompleted` is called when
 * a heartbeat completed the skill (TIME_BASED).
 */
export function modulesSection(skill, data, { canTrack, onCompleted }) {
  if (!data.modules.length) return null;
  const total = h("p", { class: "muted module-total" });
  const showTotal = (seconds) => {
    if (seconds === null || seconds === undefined) return replace(total, data.requiredMinutes ? `Completing it takes ${minutes(data.requiredMinutes)} on its modules.` : "");
    return replace(total, `Your time on its modules: ${spent(seconds)}`, data.requiredMinutes ? ` of the ${minutes(data.requiredMinutes)} it takes.` : ".");
  };
  showTotal(data.verifiedSeconds);
  const items = data.modules.map((module) => {
    const status = h("span", { class: "module-status", dataset: { module: module.id } });
    const showStatus = (progress) => replace(status, progress ? (progress.doneAt ? `Done · ${spent(progress.secondsSpent)}` : `Opened · ${spent(progress.secondsSpent)}`) : "");
    showStatus(module.progress);
    const doneButton = h("button", { type: "button", class: "small", hidden: !canTrack || !module.progress || Boolean(module.progress?.doneAt) }, "Mark done");
    const key = `${skill.id}/${module.id}`;
    const path = `/skills/${encodeURIComponent(skill.id)}/modules/${encodeURIComponent(module.id)}`;
    const details = h(
      "details",
      { class: "module", dataset: { module: module.id } },
      h("summary", {}, h("span", { class: "module-title" }, module.title), h("span", { class: "muted" }, ` · ${module.type} · ${minutes(module.estimatedMinutes)} `), status),
      moduleBody(module),
      h("div", { class: "actions" }, doneButton),
    );
    const beat = async () => {
      if (!details.isConnected || !details.open) return stopBeating();
      if (document.visibilityState !== "visible") return;
      try {
        const outcome = await api.post(`${path}/heartbeat`);
        showStatus(outcome.module);
        showTotal(outcome.verifiedSeconds);
        if (!outcome.module.doneAt) doneButton.hidden = false;
        if (outcome.completion) onCompleted(outcome.completion);
      } catch (error) {
        stopBeating();
        replace(status, `Your time is not being counted: ${error.message}`);
      }
    };
    details.addEventListener("toggle", () => {
      if (details.open) {
        openModules.set(skill.id, module.id);
        if (!canTrack) return;
        stopBeating();
        // Beat well within the most one heartbeat counts, so no time is lost between them.
        const every = Math.max(5, Math.min(30, Math.floor(data.heartbeatMaxSeconds / 2))) * 1000;
        beating = { key, timer: setInterval(beat, every) };
        beat();
      } else {
        if (openModules.get(skill.id) === module.id) openModules.delete(skill.id);
        if (beating?.key === key) stopBeating();
      }
    });
    doneButton.addEventListener("click", async () => {
      doneButton.disabled = true;
      try {
        const answer = await api.post(`${path}/done`);
        showStatus(answer.module);
        doneButton.hidden = true;
      } catch (error) {
        replace(status, error.message);
      } finally {
        doneButton.disabled = false;
      }
    });
    if (openModules.get(skill.id) === module.id) details.open = true;
    return h("li", {}, details);
  });
  return h(
    "section",
    { class: "learn-modules", "aria-labelledby": `modules-${skill.id}` },
    h("h3", { id: `modules-${skill.id}` }, "Learn"),
    canTrack ? null : h("p", { class: "muted" }, "Your time on the modules counts once you are enrolled and the skill is open."),
    total,
    h("ol", { class: "modules" }, items),
  );
}

/** Stop the heartbeat (the panel closed or the view left). */
export function leaveModules() {
  stopBeating();
}
