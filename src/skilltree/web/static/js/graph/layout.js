// Where each node and arrow is drawn: the tree's prerequisite graph laid out in layers by
// graph/layered.js (longest path from the roots, crossings minimised, long arrows routed
// between the nodes, never under one).
//
// A layout is computed once per shape of the graph: its key is a hash of what the layout reads
// (each skill's id, box size and prerequisites, their order, the direction), so a change to a
// description or an XP value reuses it and any change to the graph makes a new one. Layouts are
// kept in memory for the page and in IndexedDB across visits (graph/layout-store.js); a large
// tree is laid out in a worker so the page stays responsive meanwhile.

import { layered, packed } from "./layered.js";
import { loadLayout, saveLayout } from "./layout-store.js";
import { STATE_LABELS } from "./states.js";
import { NAME_LINE, nodeFace } from "./text.js";

const WIDTH = 148;
const MAX_WIDTH = 280;
const HEIGHT = 52;
/** Bump when layered.js draws differently: layouts kept by browsers are then made anew. */
const ENGINE = "layered-4";
/** Trees up to this many skills are laid out on the page (a few milliseconds); larger in a worker. */
const INLINE_LIMIT = 300;

const byName = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

const faces = new Map();

/**
 * What skill's node shows ({lines, shown, width}: text.js's nodeFace) in a box as wide as its
 * name needs, measured in the page's font: node_size (1..3) makes it larger.
 */
export function faceOf(skill) {
  const size = Math.min(3, Math.max(1, skill.nodeSize || 1));
  const xp = skill.xpValue ?? 0;
  const key = `${size}\u0000${skill.name}\u0000${skill.shortName || ""}\u0000${xp}`;
  let face = faces.get(key);
  if (!face) {
    face = nodeFace(skill, WIDTH + (size - 1) * 26, MAX_WIDTH + (size - 1) * 26, Object.values(STATE_LABELS).map((state) => `${state} · ${xp} XP`));
    if (faces.size > 20000) faces.clear();
    faces.set(key, face);
  }
  return face;
}

/** A node's box: as wide as its name needs, a line higher for a name on two lines. */
export function nodeBox(skill) {
  const size = Math.min(3, Math.max(1, skill.nodeSize || 1));
  const face = faceOf(skill);
  return { w: face.width, h: HEIGHT + (size - 1) * 10 + (face.lines.length - 1) * NAME_LINE };
}

/** What the layout of `doc` reads: skills in their preferred order, boxes, edges, and its key. */
export function layoutInput(doc) {
  const horizontal = doc.layoutConfig?.direction === "horizontal";
  // The preferred order within a layer (it decides where crossing minimisation has a free
  // choice): the author's placement across, then names in natural order (0.2 before 0.10).
  const across = horizontal ? "positionY" : "positionX";
  const skills = [...doc.skills].sort((a, b) => (a[across] ?? 0) - (b[across] ?? 0) || byName.compare(a.name, b.name) || (a.id < b.id ? -1 : 1));
  const index = new Map(skills.map((skill, i) => [skill.id, i]));
  const sizes = skills.map((skill) => {
    const box = nodeBox(skill);
    return horizontal ? { w: box.h, h: box.w } : box;
  });
  const edges = [];
  const parts = [ENGINE, horizontal ? "h" : "v"];
  skills.forEach((skill, i) => {
    const needs = [];
    for (const id of skill.dependencies || []) if (index.has(id)) needs.push(index.get(id));
    for (const from of needs) edges.push([from, i]);
    parts.push(`${skill.id}:${sizes[i].w}x${sizes[i].h}:${needs.join(",")}`);
  });
  return { ids: skills.map((skill) => skill.id), sizes, edges, horizontal, key: hash(parts.join(";")) };
}

/** The engine's (packed) answer for `input` as the renderer takes it: boxes and routes by id. */
function shaped(input, result) {
  const { ids, sizes, edges, horizontal } = input;
  const boxes = new Map();
  ids.forEach((id, i) => {
    const { w, h } = sizes[i];
    const [x, y] = [result.x[i], result.y[i]];
    boxes.set(id, horizontal ? { x: y, y: x, w: h, h: w } : { x, y, w, h });
  });
  const routes = new Map();
  edges.forEach(([from, to], e) => {
    if (result.start[e] === result.start[e + 1]) return;
    const points = result.points.subarray(result.start[e], result.start[e + 1]);
    const turned = horizontal ? points.map((_, i) => points[i % 2 ? i - 1 : i + 1]) : points;
    routes.set(`${ids[from]}>${ids[to]}`, turned);
  });
  return { boxes, routes, horizontal, crossings: result.crossings };
}

/** The engine's answer for `input`, packed (as the worker sends it and the store keeps it). */
function layOut(input) {
  return packed(layered(input.sizes, input.edges));
}

/** The layout of `doc`, computed here and now (graph/layered.js). */
export function computeLayout(doc) {
  const input = layoutInput(doc);
  return shaped(input, layOut(input));
}

const recent = new Map();
let worker = null;
let asked = 0;
const waiting = new Map();

function inWorker(input) {
  if (!worker) {
    worker = new Worker(new URL("./layout-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      waiting.get(data.id)?.resolve(data.result);
      waiting.delete(data.id);
    };
    worker.onerror = (event) => {
      // A worker that cannot run (an old browser): lay out on the page from now on.
      event.preventDefault();
      worker = false;
      for (const pending of waiting.values()) pending.fallback();
      waiting.clear();
    };
  }
  if (worker === false) return Promise.resolve(layOut(input));
  asked += 1;
  const id = asked;
  return new Promise((resolve) => {
    waiting.set(id, { resolve, fallback: () => resolve(layOut(input)) });
    worker.postMessage({ id, sizes: input.sizes, edges: input.edges });
  });
}

/**
 * The layout of tree `slug`'s document `doc`: from this page's memory, else from the browser's
 * store, else computed (in a worker for a large tree) and kept. Answers {boxes, routes,
 * horizontal, crossings, source} (source: "memory", "stored" or "computed").
 */
export async function layoutFor(slug, doc) {
  const input = layoutInput(doc);
  if (recent.has(input.key)) return { ...shaped(input, recent.get(input.key)), source: "memory" };
  let result = await loadLayout(slug, input.key);
  let source = "stored";
  if (!result) {
    result = input.ids.length <= INLINE_LIMIT ? layOut(input) : await inWorker(input);
    source = "computed";
    saveLayout(slug, input.key, result);
  }
  recent.set(input.key, result);
  if (recent.size > 4) recent.delete(recent.keys().next().value);
  return { ...shaped(input, result), source };
}

/** A 53-bit hash of `text` (cyrb53): keys layouts without needing a secure context. */
function hash(text) {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
