// A learner's state in each skill, derived as the server does (skilltree.progress.states):
// IN_PROGRESS, COMPLETED and SKIPPED are what the learner did; the rest is AVAILABLE when every
// prerequisite is satisfied (COMPLETED, or SKIPPED when optional), else LOCKED.

export const STATE_LABELS = {
  LOCKED: "Locked",
  AVAILABLE: "Available",
  IN_PROGRESS: "In progress",
  COMPLETED: "Completed",
  SKIPPED: "Skipped",
};

const RECORDED = new Set(["IN_PROGRESS", "COMPLETED", "SKIPPED"]);

/** The statuses the learner recorded, from a tree document's `skillStates`. */
export function recordedRows(skillStates) {
  const rows = new Map();
  for (const [id, state] of Object.entries(skillStates || {})) {
    if (RECORDED.has(state.status)) rows.set(id, state.status);
  }
  return rows;
}

export function isSatisfied(skill, rows) {
  const status = rows.get(skill.id);
  return status === "COMPLETED" || (status === "SKIPPED" && skill.isOptional);
}

/** Every skill's state: Map id -> status. */
export function deriveStates(skillsById, rows) {
  const states = new Map();
  for (const skill of skillsById.values()) {
    const recorded = rows.get(skill.id);
    if (recorded) states.set(skill.id, recorded);
    else {
      const ready = skill.dependencies.every((id) => !skillsById.has(id) || isSatisfied(skillsById.get(id), rows));
      states.set(skill.id, ready ? "AVAILABLE" : "LOCKED");
    }
  }
  return states;
}

/** Prerequisites of `id` not yet satisfied, at any depth, nearest first. */
export function missingPrerequisites(id, skillsById, rows) {
  const missing = [];
  const seen = new Set([id]);
  let frontier = [id];
  while (frontier.length) {
    const next = [];
    for (const current of frontier) {
      for (const dep of skillsById.get(current)?.dependencies || []) {
        if (seen.has(dep) || !skillsById.has(dep)) continue;
        seen.add(dep);
        next.push(dep);
        if (!isSatisfied(skillsById.get(dep), rows)) missing.push(skillsById.get(dep));
      }
    }
    frontier = next;
  }
  return missing;
}
