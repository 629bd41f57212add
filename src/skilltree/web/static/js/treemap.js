// A tree as the tree page shows it, from its lean map (GET /trees/{slug}/map: the same for
// everyone, compressed once per version) and the learner's states (GET /me/trees/{slug}/states:
// only what differs from the defaults). A skill's details come when it is opened (GET /skills/{id}).

import * as api from "./api.js";

const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The map's skills as objects (dependencies and dependents as ids), its learning plan as ids,
 * with the learner's `progress` and `skillStates` (null when not signed in). */
export function fromMap(map, states) {
  const fields = map.skillFields;
  const skills = map.skills.map((row) => {
    const skill = { dependents: [] };
    fields.forEach((name, i) => {
      skill[name] = row[i];
    });
    return skill;
  });
  const ids = skills.map((skill) => skill.id);
  for (const skill of skills) {
    skill.dependencies = skill.dependencies.map((rank) => ids[rank]).sort(byCodePoint);
  }
  const byId = new Map(skills.map((skill) => [skill.id, skill]));
  for (const skill of skills) for (const need of skill.dependencies) byId.get(need).dependents.push(skill.id);
  for (const skill of skills) skill.dependents.sort(byCodePoint);
  return {
    ...map,
    skills,
    learningOrder: map.learningOrder.map((rank) => ids[rank]),
    layers: map.layers.map((layer) => layer.map((rank) => ids[rank])),
    progress: states ? states.progress : null,
    skillStates: states ? states.skillStates : null,
  };
}

/** Tree `slug` for the tree page: its map, and the learner's states when `signedIn`. */
export async function loadTree(slug, signedIn) {
  const path = encodeURIComponent(slug);
  const [map, states] = await Promise.all([api.get(`/trees/${path}/map`), signedIn ? api.get(`/me/trees/${path}/states`) : null]);
  return fromMap(map, states);
}

/** A skill of the map with its details (what it teaches, its resources, how it is completed);
 * its edges stay the map's (active skills only). */
export function withDetails(skill, details) {
  return { ...skill, ...details, dependencies: skill.dependencies, dependents: skill.dependents };
}
