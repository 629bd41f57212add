// The prerequisite graph as SVG: nodes where graph/layout.js placed them, arrows along its
// routes from each prerequisite to the skill that needs it, the learner's state as colour, icon,
// border pattern and words; pan, zoom, keyboard navigation, highlighted routes; in edit mode,
// dragging nodes and drawing edges.
//
// Panning and zooming move the whole <svg> with a CSS transform (the browser composites it, so a
// 1,000-skill tree pans without redrawing); after a zoom settles it is redrawn sharp.

import { h, s } from "../dom.js";
import { FarView } from "./farview.js";
import { faceOf } from "./layout.js";
import { Minimap } from "./minimap.js";
import { STATE_LABELS } from "./states.js";
import { LABEL_LINE, LABEL_PX, NAME_LINE, NAME_PX, SUB_PX, TEXT_LEFT, TEXT_RIGHT, textWidth, wrap } from "./text.js";

const MARGIN = 60;
const MIN_ZOOM = 0.05;
const MAX_ZOOM = 2.5;
const DRAG_THRESHOLD = 4;
const FAR_ZOOM = 0.35;
/** Text smaller than this on screen (CSS px) is not drawn: semantic zoom shows labels instead. */
export const LEGIBLE_PX = 11;
/** Below this zoom a node's lower line (12 px) would be smaller than LEGIBLE_PX: hidden. */
const SUB_ZOOM = LEGIBLE_PX / SUB_PX;
/** Below this zoom a node's name (13 px) would be: nodes are blocks, map labels name them. */
export const NAME_ZOOM = LEGIBLE_PX / NAME_PX;
/** A map label's widest (CSS px), its padding across and down, and the room kept round it. */
const LABEL_MAX = 180;
const LABEL_MIN = 40;
const LABEL_PAD_X = 6;
const LABEL_PAD_Y = 3;
const LABEL_GAP = 4;
const LABEL_WEIGHT = 400;
/** How long after a large tree's last zoom step its map labels are made again (ms). */
const LABEL_SETTLE = 150;
/** How long after the last pan or zoom the view is written to the address (ms). */
const VIEW_SETTLE = 250;
/** Up to this many skills, the first view is the whole tree when its labels name every skill. */
const LABEL_ALL_LIMIT = 300;
/** At most this many labels, from at most this many skills tried (in rank order), per build. */
const LABELS_MOST = 400;
const LABELS_TRIED = 2500;
/** How many times a small tree's labels are placed again, the skills left out first. */
const LABEL_ROUNDS = 4;
/**
 * Large trees (issue 15 part 7): above this many skills only the nodes and arrows on and round the
 * screen (half a screen each way) are in the document; the others wait, built, outside it.
 */
export const CULL_ABOVE = 1500;
/**
 * Above this many skills, where names would be too small to read on the nodes (below NAME_ZOOM),
 * the map is drawn on a canvas instead (graph/farview.js), the SVG hidden: a scaled SVG of
 * 1,000 skills took 130-330 ms a frame to zoom far out in software rendering.
 */
export const CANVAS_ABOVE = 500;

// Icons in a 16-unit box around (0, 0); `fill` icons are solid shapes, the others are strokes.
const ICONS = {
  LOCKED: { d: "M-5,-1 h10 v7 h-10 Z M-3,-1 v-3 a3,3 0 0 1 6,0 v3", fill: false },
  AVAILABLE: { d: "M-3,-5 L5,0 L-3,5 Z", fill: true },
  IN_PROGRESS: { d: "M0,-6 A6,6 0 1 1 0,6 A6,6 0 1 1 0,-6 M0,-6 A6,6 0 0 1 0,6 Z", fill: false },
  COMPLETED: { d: "M-5,0 L-1.5,4 L5,-4", fill: false },
  SKIPPED: { d: "M-6,-5 L0,0 L-6,5 Z M1,-5 L7,0 L1,5 Z", fill: true },
};
const STAR = "M0,-7 L2,-2.2 L7,-2.2 L3,0.9 L4.5,6 L0,3 L-4.5,6 L-3,0.9 L-7,-2.2 L-2,-2.2 Z";

/**
 * A laid-out route (flat [x0, y0, x1, y1, ...], graph/layout.js) as the pieces drawn: straight
 * along a layer, a curve leaving and entering the gap between layers square to it. Each piece is
 * [x0, y0, c1x, c1y, c2x, c2y, x1, y1] (a cubic; a straight piece has its ends as controls).
 */
export function routePieces(points, horizontal) {
  const pieces = [];
  for (let i = 2; i < points.length; i += 2) {
    const [x0, y0, x1, y1] = [points[i - 2], points[i - 1], points[i], points[i + 1]];
    if (horizontal ? y0 === y1 : x0 === x1) pieces.push([x0, y0, x0, y0, x1, y1, x1, y1]);
    else if (horizontal) pieces.push([x0, y0, (x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1, y1]);
    else pieces.push([x0, y0, x0, (y0 + y1) / 2, x1, (y0 + y1) / 2, x1, y1]);
  }
  return pieces;
}

/** The SVG path of a laid-out route. */
export function routePath(points, horizontal) {
  let d = `M${points[0]},${points[1]}`;
  for (const [x0, y0, c1x, c1y, c2x, c2y, x1, y1] of routePieces(points, horizontal)) {
    d += c1x === x0 && c1y === y0 && c2x === x1 && c2y === y1 ? ` L${x1},${y1}` : ` C${c1x},${c1y} ${c2x},${c2y} ${x1},${y1}`;
  }
  return d;
}

// --- insight (issue 15 part 9) ---

/** The classes of the five funnel bands (a skill's share of enrolled learners who completed it). */
export const BANDS = ["band-0", "band-1", "band-2", "band-3", "band-4"];
const NO_FIGURES = { band: 0, share: 0, sub: "No learners", subShort: "No learners", words: "no learners yet", stall: 0 };

/** A pie of `share` (0-1) in the icon's circle, from twelve o'clock clockwise. */
export function piePath(share) {
  const r = 7;
  if (share <= 0) return "M0,0";
  if (share >= 1) return `M0,${-r} A${r},${r} 0 1 1 0,${r} A${r},${r} 0 1 1 0,${-r} Z`;
  const angle = 2 * Math.PI * share;
  const x = (r * Math.sin(angle)).toFixed(2);
  const y = (-r * Math.cos(angle)).toFixed(2);
  return `M0,0 L0,${-r} A${r},${r} 0 ${share > 0.5 ? 1 : 0} 1 ${x},${y} Z`;
}

// --- mastery (issue 14 part 8) ---

const MASTERY_WORDS = { FAMILIAR: "Familiar", PROFICIENT: "Proficient", MASTERED: "Mastered" };

/** A completed node's mastery in words: "Review due" once due (never a level), else its level. */
function masteryWords(state, mastery) {
  if (state !== "COMPLETED" || !mastery) return "";
  return mastery.due ? "Review due" : MASTERY_WORDS[mastery.level] || "";
}

/** A completed node's `data-mastery`: "due", or its level in lower case ("" without one). */
function masteryKey(mastery) {
  if (!mastery) return "";
  return mastery.due ? "due" : String(mastery.level || "").toLowerCase();
}

export class GraphView {
  /**
   * @param {HTMLElement} container where the graph is drawn
   * @param {object} handlers onSelect(id), onMove(id, x, y), onConnect(fromId, toId), onEdgeSelect(from, to)
   */
  constructor(container, handlers = {}) {
    this.container = container;
    this.handlers = handlers;
    this.editing = false;
    this.view = { x: 0, y: 0, k: 1 };
    this.nodes = new Map();
    this.edges = [];
    this.focusedId = null;
    this.touches = new Map();
    this.pinch = null;
    this.container.classList.add("graph");
    // Its view, for measurements and tests in the page (tests/browser/test_large_tree.py).
    this.container.graphView = this;
    // Semantic zoom: where names would be too small to read, labels of a legible size name the
    // skills instead (graph/render.js _buildLabels), over the map, never taking a pointer.
    this.labelBox = h("div", { class: "map-labels", "aria-hidden": "true" });
    this.container.append(this.labelBox);
    this.minimap = new Minimap(this);
    this.far = new FarView(this);
    this._far = false;
    this.selectedId = null;
    this._bindContainer();
  }

  /** Draw `doc`'s skills with `layout` (graph/layout.js) and the learner's `states`. */
  render(doc, layout, states, { keepView = false } = {}) {
    this.doc = doc;
    this.layout = layout;
    this._labelK = null;
    this.skills = new Map(doc.skills.map((skill) => [skill.id, skill]));
    this.states = new Map(states);
    const boxes = layout.boxes;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const box of boxes.values()) {
      minX = Math.min(minX, box.x - box.w / 2);
      minY = Math.min(minY, box.y - box.h / 2);
      maxX = Math.max(maxX, box.x + box.w / 2);
      maxY = Math.max(maxY, box.y + box.h / 2);
    }
    // A long arrow may run outside every node's box (round the side of a layer).
    for (const points of layout.routes?.values() || []) {
      for (let i = 0; i < points.length; i += 2) {
        minX = Math.min(minX, points[i]);
        maxX = Math.max(maxX, points[i]);
      }
    }
    if (!boxes.size) [minX, minY, maxX, maxY] = [0, 0, 300, 120];
    const before = this.nodes.size ? this.origin : null;
    // The skill in focus stays where it was on screen, though the tree was laid out anew.
    const anchor = before && this.focusedId && boxes.has(this.focusedId) ? { old: this.nodes.get(this.focusedId).box, now: boxes.get(this.focusedId) } : null;
    this.origin = { x: minX - MARGIN, y: minY - MARGIN };
    if (before) {
      // Keep what is on screen where it was, though the drawing's corner moved.
      this.view.x += (this.origin.x - before.x + (anchor ? anchor.old.x - anchor.now.x : 0)) * this.view.k;
      this.view.y += (this.origin.y - before.y + (anchor ? anchor.old.y - anchor.now.y : 0)) * this.view.k;
    }
    this.size = { w: maxX - minX + 2 * MARGIN, h: maxY - minY + 2 * MARGIN };

    const svg = s("svg", {
      class: "graph-canvas",
      width: this.size.w,
      height: this.size.h,
      viewBox: `${this.origin.x} ${this.origin.y} ${this.size.w} ${this.size.h}`,
      role: "group",
      "aria-label": `Prerequisite graph of ${doc.name}, ${doc.skills.length} skills. Arrow keys move between skills, Enter opens one, plus and minus zoom.`,
    });
    svg.append(this._defs());
    this.edgeLayer = s("g", { class: "edges" });
    this.hitLayer = s("g", { class: "edge-hits" });
    this.nodeLayer = s("g", { class: "nodes" });
    this.overlay = s("g", { class: "overlay" });
    svg.append(this.edgeLayer, this.hitLayer, this.nodeLayer, this.overlay);

    this.nodes.clear();
    this.edges = [];
    this._marks = new Map();
    this._selectedEdge = null;
    this._selectedEl = null;
    // Nodes and arrows are built when first wanted (`node.el`, `edge.path`): a small tree's all
    // at once here, a large tree's as they come on screen (_cullNow).
    const view = this;
    for (const skill of doc.skills) {
      for (const from of skill.dependencies) {
        if (!boxes.has(from)) continue;
        this.edges.push({
          from,
          to: skill.id,
          _path: null,
          _hit: null,
          get path() {
            if (!this._path) view._buildEdge(this);
            return this._path;
          },
          get hit() {
            if (!this._path) view._buildEdge(this);
            return this._hit;
          },
        });
      }
    }
    for (const skill of doc.skills) {
      this.nodes.set(skill.id, {
        skill,
        box: boxes.get(skill.id),
        shown: faceOf(skill).shown,
        _el: null,
        icon: null,
        sub: null,
        get el() {
          if (!this._el) view._buildNode(this);
          return this._el;
        },
      });
    }
    this._cull = doc.skills.length > CULL_ABOVE;
    this._canvas = doc.skills.length > CANVAS_ABOVE;
    this._cullAt = null;
    this.far.paths = null;
    if (this._cull) {
      // Each arrow's extent, to tell whether it crosses the part of the map in view.
      for (const edge of this.edges) edge.bounds = this._edgeBounds(edge);
    } else {
      this.edgeLayer.append(...this.edges.map((edge) => edge.path));
      this.hitLayer.append(...this.edges.map((edge) => edge.hit).filter(Boolean));
      this.nodeLayer.append(...[...this.nodes.values()].map((node) => node.el));
    }

    if (this.svg) this.svg.replaceWith(svg);
    else this.container.prepend(svg);
    this.svg = svg;
    if (this._far && this._canvas) svg.style.display = "none";
    else if (this._far) this._setFar(false);
    svg.classList.toggle("editing", this.editing);
    this._labelOrder(doc);
    this.minimap.draw();
    const first = (this.focusedId && this.nodes.has(this.focusedId) ? this.focusedId : null) || doc.learningOrder?.find((id) => this.nodes.has(id)) || doc.skills[0]?.id;
    this.focusedId = null;
    if (first) this._setRoving(first);
    if (keepView && before) this._keepInside();
    else this.start(first);
    this._cullNow();
    if (this._canvas) this.far.prepare();
  }

  /** The extent of an arrow's drawing (its route's points, or its two ends). */
  _edgeBounds(edge) {
    const route = this.layout.routes?.get(`${edge.from}>${edge.to}`);
    const a = this.nodes.get(edge.from).box;
    const b = this.nodes.get(edge.to).box;
    const xs = [a.x, b.x];
    const ys = [a.y, b.y];
    for (let i = 0; route && i < route.length; i += 2) {
      xs.push(route[i]);
      ys.push(route[i + 1]);
    }
    return { x0: Math.min(...xs) - 10, x1: Math.max(...xs) + 10, y0: Math.min(...ys) - Math.max(a.h, b.h) / 2, y1: Math.max(...ys) + Math.max(a.h, b.h) / 2 };
  }

  _scheduleCull() {
    if (!this._cull || this._cullFrame) return;
    this._cullFrame = requestAnimationFrame(() => {
      this._cullFrame = 0;
      this._cullNow();
    });
  }

  /**
   * A large tree: put in the document the nodes and arrows on and round the screen (and the
   * focused and selected skills, so the map keeps its tab stop), take the others out. Far out
   * (the canvas drawn, the SVG hidden) nothing changes.
   */
  _cullNow() {
    if (this._cullFrame) {
      cancelAnimationFrame(this._cullFrame);
      this._cullFrame = 0;
    }
    if (!this._cull || !this.svg || this._far) return;
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const { x, y, k } = this.view;
    this._cullAt = { x, y, k };
    const left = this.origin.x + (-x - width / 2) / k;
    const right = this.origin.x + (width * 1.5 - x) / k;
    const top = this.origin.y + (-y - height / 2) / k;
    const bottom = this.origin.y + (height * 1.5 - y) / k;
    const inside = [];
    for (const node of this.nodes.values()) {
      const b = node.box;
      if (b.x + b.w / 2 >= left && b.x - b.w / 2 <= right && b.y + b.h / 2 >= top && b.y - b.h / 2 <= bottom) inside.push(node);
    }
    const wanted = new Set(inside);
    for (const id of [this.focusedId, this.selectedId]) if (id && this.nodes.has(id)) wanted.add(this.nodes.get(id));
    const add = [];
    for (const node of this.nodes.values()) {
      const on = wanted.has(node);
      if (on && !node._el?.isConnected) add.push(node.el);
      else if (!on && node._el?.isConnected && node._el !== document.activeElement) node._el.remove();
    }
    if (add.length) this.nodeLayer.append(...add);
    const edges = [];
    const hits = [];
    for (const edge of this.edges) {
      const b = edge.bounds;
      const on = b.x1 >= left && b.x0 <= right && b.y1 >= top && b.y0 <= bottom;
      if (on && !edge._path?.isConnected) {
        edges.push(edge.path);
        if (edge.hit) hits.push(edge.hit);
      } else if (!on && edge._path?.isConnected) {
        edge._path.remove();
        edge._hit?.remove();
      }
    }
    if (edges.length) this.edgeLayer.append(...edges);
    if (hits.length) this.hitLayer.append(...hits);
    this.container.dataset.drawn = String(wanted.size);
  }

  /** Far out on a large tree: the canvas (`on`), else the SVG; keyboard focus follows. */
  _setFar(on) {
    this._far = on;
    const active = document.activeElement;
    const fromSvg = on && this.svg?.contains(active);
    const fromCanvas = !on && active === this.far.canvas;
    if (this.svg) this.svg.style.display = on ? "none" : "";
    this.far.show(on, this.svg?.getAttribute("aria-label") || "Prerequisite graph");
    if (on) {
      this.container.dataset.drawn = "canvas";
      if (fromSvg) this.far.canvas.focus({ preventScroll: true });
      return;
    }
    delete this.container.dataset.drawn;
    this._cullAt = null;
    this._cullNow();
    if (fromCanvas) {
      // The skill nearest the screen's centre takes the focus the canvas had.
      const centre = this.viewState();
      let best = null;
      let distance = Infinity;
      for (const [id, node] of this.nodes) {
        const d = Math.hypot(node.box.x - centre.x, node.box.y - centre.y);
        if (d < distance) [best, distance] = [id, d];
      }
      if (best) this.focusNode(best);
    }
  }

  /** Pan so that as much of the drawing as fits is on screen (none of it lost to one side). */
  _keepInside() {
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const clamp = (at, content, room) => (content <= room ? Math.min(Math.max(at, 0), room - content) : Math.min(Math.max(at, room - content), 0));
    this.view.x = clamp(this.view.x, this.size.w * this.view.k, width);
    this.view.y = clamp(this.view.y, this.size.h * this.view.k, height);
    this._apply();
  }

  /**
   * The first view: the whole tree if its names are readable so (on the nodes, or on the map's
   * labels for every skill), else readable from its top at `id`.
   */
  start(id) {
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const fitK = Math.min(1, width / this.size.w, height / this.size.h);
    if (fitK >= NAME_ZOOM || !id) {
      this.fit();
      return;
    }
    if (this.nodes.size <= LABEL_ALL_LIMIT) {
      this.fit();
      if (this._buildLabels() === this.nodes.size) return;
    }
    const k = Math.min(1, Math.max(NAME_ZOOM, width / this.size.w));
    const box = this.nodes.get(id).box;
    const contentWidth = this.size.w * k;
    const x = contentWidth <= width ? (width - contentWidth) / 2 : Math.min(0, Math.max(width - contentWidth, width / 2 - (box.x - this.origin.x) * k));
    this.view = { k, x, y: 0 };
    this._apply();
    this._resharpen();
  }

  /** What the map labels (semantic zoom) name first, and how wide each label may be. */
  _labelOrder(doc) {
    const dependents = new Map();
    for (const edge of this.edges) dependents.set(edge.from, (dependents.get(edge.from) || 0) + 1);
    const place = new Map((doc.learningOrder || []).map((id, i) => [id, i]));
    const skill = (id) => this.nodes.get(id).skill;
    // Milestones first, then the skills most others need, then in learning order.
    this._rank = [...this.nodes.keys()].sort(
      (a, b) => Number(skill(b).isMilestone) - Number(skill(a).isMilestone) || (dependents.get(b) || 0) - (dependents.get(a) || 0) || (place.get(a) ?? Infinity) - (place.get(b) ?? Infinity) || (a < b ? -1 : 1),
    );
    // A label is centred on its node and no wider than the way to the nearest node beside it
    // (in its row; across columns when the tree runs sideways), so neighbours' labels meet not.
    this._room = new Map();
    const horizontal = this.layout.horizontal;
    const groups = new Map();
    for (const [id, node] of this.nodes) {
      const key = horizontal ? node.box.x : node.box.y;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(id);
    }
    if (horizontal) {
      const columns = [...groups.keys()].sort((a, b) => a - b);
      columns.forEach((x, i) => {
        const room = Math.min(i > 0 ? x - columns[i - 1] : Infinity, i + 1 < columns.length ? columns[i + 1] - x : Infinity);
        for (const id of groups.get(x)) this._room.set(id, room);
      });
      return;
    }
    for (const ids of groups.values()) {
      ids.sort((a, b) => this.nodes.get(a).box.x - this.nodes.get(b).box.x);
      ids.forEach((id, i) => {
        const x = this.nodes.get(id).box.x;
        const left = i > 0 ? x - this.nodes.get(ids[i - 1]).box.x : Infinity;
        const right = i + 1 < ids.length ? this.nodes.get(ids[i + 1]).box.x - x : Infinity;
        this._room.set(id, Math.min(left, right));
      });
    }
  }

  /**
   * `text` as a map label at most `width` px wide (its padding in), in at most `most` lines;
   * `{whole: false}` where it does not fit whole, unless `cutting`.
   */
  _labelText(text, width, most, cutting = false) {
    return wrap(text, width - 2 * LABEL_PAD_X, LABEL_PX, LABEL_WEIGHT, most, !cutting);
  }

  _scheduleLabels() {
    if (this._labelFrame) return;
    this._labelFrame = requestAnimationFrame(() => {
      this._labelFrame = 0;
      this._buildLabels();
    });
  }

  /**
   * Semantic zoom: where a node's name would be drawn under LEGIBLE_PX, the skills on and near
   * the screen are named by labels of LABEL_PX, each centred on its node in the node's state's
   * colours and border pattern, wrapped (measured) to at most three lines; a label that would
   * cover another of higher rank (the selected skill, milestones, the skills most others need)
   * is left out. Answers how many labels are shown.
   */
  _buildLabels() {
    if (this._labelFrame) {
      cancelAnimationFrame(this._labelFrame);
      this._labelFrame = 0;
    }
    const { k } = this.view;
    clearTimeout(this._labelTimer);
    this._labelK = k;
    this._labelAt = { x: this.view.x, y: this.view.y };
    this.labelBox.style.transform = `translate(${this.view.x}px, ${this.view.y}px)`;
    this.labelBox.dataset.k = k.toFixed(3);
    if (k >= NAME_ZOOM || !this.nodes.size) {
      this.labelBox.replaceChildren();
      this.container.dataset.labels = "0";
      return 0;
    }
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    // The screen and half a screen round it, in graph coordinates.
    const left = this.origin.x + (-this.view.x - width / 2) / k;
    const right = this.origin.x + (width * 1.5 - this.view.x) / k;
    const top = this.origin.y + (-this.view.y - height / 2) / k;
    const bottom = this.origin.y + (height * 1.5 - this.view.y) / k;
    // Skills on and round the screen, in rank order (the selected skill first).
    const order = this.selectedId && this.nodes.has(this.selectedId) ? [this.selectedId, ...this._rank] : this._rank;
    let candidates = [];
    const seen = new Set();
    for (const id of order) {
      if (seen.has(id)) continue;
      seen.add(id);
      const b = this.nodes.get(id).box;
      if (b.x < left || b.x > right || b.y < top || b.y > bottom) continue;
      candidates.push(id);
      if (candidates.length >= LABELS_TRIED) break;
    }
    let best = this._placeLabels(candidates, k);
    // A small tree: the skills left without a label go first, a few times, for the placing
    // that names most skills.
    for (let round = 0; round < LABEL_ROUNDS && best.length < candidates.length && candidates.length <= LABEL_ALL_LIMIT; round += 1) {
      const named = new Set(best.map((el) => el.dataset.id));
      const first = new Set(candidates.filter((id) => !named.has(id)));
      candidates = [...first, ...candidates.filter((id) => named.has(id))];
      const next = this._placeLabels(candidates, k, first);
      if (next.length > best.length) best = next;
    }
    this.labelBox.replaceChildren(...best);
    this.container.dataset.labels = String(best.length);
    return best.length;
  }

  /**
   * Labels for skills `candidates` (in this order) at zoom `k`, none over another; those in
   * `eager` may take a wider place at once.
   */
  _placeLabels(candidates, k, eager = new Set()) {
    const CELL = 64;
    const grid = new Map();
    const cells = (r, visit) => {
      for (let i = Math.floor(r.x0 / CELL); i <= Math.floor(r.x1 / CELL); i += 1) {
        for (let j = Math.floor(r.y0 / CELL); j <= Math.floor(r.y1 / CELL); j += 1) if (visit(`${i},${j}`)) return true;
      }
      return false;
    };
    const meets = (r) => cells(r, (key) => (grid.get(key) || []).some((o) => r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1));
    const keep = (r) =>
      cells(r, (key) => {
        if (!grid.has(key)) grid.set(key, []);
        grid.get(key).push(r);
        return false;
      });
    const labels = [];
    // Centred, else moved up or down, else (`sideways`) along, its edge at its node's edge.
    const offsets = (slide, shift) => {
      const across = slide ? [0, -slide, slide] : [0];
      const down = shift ? [0, -shift, shift] : [0];
      return across.flatMap((dx) => down.map((dy) => [dx, dy]));
    };
    // Place a label for `id` in the first of `texts` (each a wrap() answer) that meets no label
    // placed, always over part of its node.
    const place = (id, texts, sideways) => {
      const b = this.nodes.get(id).box;
      const cx = (b.x - this.origin.x) * k;
      const cy = (b.y - this.origin.y) * k;
      for (const text of texts) {
        const w = Math.ceil(text.width) + 1 + 2 * LABEL_PAD_X;
        const tall = text.lines.length * LABEL_LINE + 2 * LABEL_PAD_Y;
        const shift = Math.max(0, (tall - b.h * k) / 2);
        const slide = sideways ? Math.max(0, (w - b.w * k) / 2) : 0;
        for (const [dx, dy] of offsets(slide, shift)) {
          const at = { x0: cx + dx - w / 2, y0: cy + dy - tall / 2 };
          const padded = { x0: at.x0 - LABEL_GAP / 2, y0: at.y0 - LABEL_GAP / 2, x1: at.x0 + w + LABEL_GAP / 2, y1: at.y0 + tall + LABEL_GAP / 2 };
          if (meets(padded)) continue;
          keep(padded);
          const el = h("div", { class: `map-label ${this._labelClass(id)}`, "data-id": id }, text.lines.join("\n"));
          const mastery = this.states.get(id) === "COMPLETED" && !this.insight ? masteryKey(this.mastery?.get(id)) : "";
          if (mastery) el.dataset.mastery = mastery;
          el.style.left = `${at.x0}px`;
          el.style.top = `${at.y0}px`;
          el.style.width = `${w}px`;
          labels.push(el);
          return true;
        }
      }
      return false;
    };
    // First every skill in its own room (no wider than the way to the nodes beside it, so it
    // takes no neighbour's place): its name in two lines, three, else its short name. Then the
    // skills left without a label, wider and slid along. A name is cut short only where nothing
    // else fits.
    const shortOf = (skill) => (skill.shortName && skill.shortName !== skill.name ? skill.shortName : null);
    const wider = (id) => {
      const { skill } = this.nodes.get(id);
      const short = shortOf(skill);
      const texts = [this._labelText(skill.name, LABEL_MAX, 2)];
      if (short) texts.push(this._labelText(short, LABEL_MAX, 1));
      texts.push(this._labelText(skill.name, LABEL_MAX, 3));
      const whole = texts.filter((text) => text.whole);
      return place(id, whole.length ? whole : [this._labelText(short || skill.name, LABEL_MAX, 2, true)], true);
    };
    const unplaced = [];
    for (const id of candidates) {
      if (labels.length >= LABELS_MOST) break;
      const { skill, box: b } = this.nodes.get(id);
      const room = Math.min(LABEL_MAX, Math.max(b.w * k, (this._room.get(id) ?? Infinity) * k - LABEL_GAP));
      const short = shortOf(skill);
      // (A room narrower than a short word holds no label: the wider pass only.)
      const texts = room < LABEL_MIN ? [] : [this._labelText(skill.name, room, 2), this._labelText(skill.name, room, 3)];
      if (short && room >= LABEL_MIN) texts.push(this._labelText(short, room, 1));
      if (!place(id, texts.filter((text) => text.whole)) && !(eager.has(id) && wider(id))) unplaced.push(id);
    }
    for (const id of unplaced) {
      if (labels.length >= LABELS_MOST) break;
      wider(id);
    }
    return labels;
  }


  /** A map label's classes: the skill's state, or in insight its band (and stall). */
  _labelClass(id) {
    if (this.insight) {
      const figure = this.insight.get(id) || NO_FIGURES;
      return `${BANDS[figure.band]}${figure.stall ? " stall" : ""}`;
    }
    return `state-${(this.states.get(id) || "LOCKED").toLowerCase().replace("_", "-")}`;
  }

  _defs() {
    const marker = (id) =>
      s("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse", markerUnits: "strokeWidth" }, s("path", { d: "M0,0 L10,5 L0,10 Z" }));
    return s(
      "defs",
      {},
      marker("arrow"),
      marker("arrow-route"),
      marker("arrow-cycle"),
      s("pattern", { id: "hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, s("rect", { width: 8, height: 8, class: "hatch-bg" }), s("line", { x1: 0, y1: 0, x2: 0, y2: 8, class: "hatch-line" })),
    );
  }

  /** Build `node`'s element (in its state, with the marks it has: selected, focused, highlighted). */
  _buildNode(node) {
    const { skill, box } = node;
    const { w, h } = box;
    const el = s("g", {
      class: "node",
      "data-id": skill.id,
      transform: `translate(${box.x},${box.y})`,
      tabindex: -1,
      role: "button",
    });
    if (skill.isMilestone) {
      el.classList.add("milestone");
      el.append(s("rect", { class: "milestone-ring", x: -w / 2 - 5, y: -h / 2 - 5, width: w + 10, height: h + 10, rx: 14 }));
    }
    // The selection ring: blue, outside the milestone's amber ring (both show on a selected milestone).
    el.append(s("rect", { class: "select-ring", x: -w / 2 - 10, y: -h / 2 - 10, width: w + 20, height: h + 20, rx: 17 }));
    const icon = s("path", { class: "icon-glyph" });
    // The name (one or two lines, measured: graph/text.js) and the state under it, centred.
    const face = faceOf(skill);
    const top = -(face.lines.length * NAME_LINE + NAME_LINE) / 2 + 12;
    const x = -w / 2 + TEXT_LEFT;
    const name = s("text", { class: "name", x, y: top });
    // A line's space kept at its end: the element's text is the name as written.
    face.lines.forEach((line, i) => name.append(s("tspan", { x, y: top + i * NAME_LINE }, i + 1 < face.lines.length ? `${line} ` : line)));
    const sub = s("text", { class: "sub", x, y: top + (face.lines.length - 1) * NAME_LINE + 17 });
    el.append(
      s("rect", { class: "body", x: -w / 2, y: -h / 2, width: w, height: h, rx: 10 }),
      s("rect", { class: "focus-ring", x: -w / 2 - 3, y: -h / 2 - 3, width: w + 6, height: h + 6, rx: 12 }),
      s("g", { class: "icon", transform: `translate(${-w / 2 + 17},0)` }, s("circle", { class: "icon-bg", r: 11 }), icon),
      name,
      // Spaces between the texts (not drawn: SVG draws text only inside <text>): the words the
      // node shows read "Bowline Available · 10 XP optional", as its accessible name says them.
      " ",
      sub,
    );
    if (skill.isOptional) {
      el.classList.add("optional");
      el.append(" ", s("text", { class: "tag-optional", x: -w / 2 + 4, y: -h / 2 - 5 }, "optional"));
    }
    if (skill.isMilestone) el.append(s("path", { class: "star", d: STAR, transform: `translate(${w / 2 - 12},${-h / 2 + 12})` }));
    if (this.editing) el.append(s("circle", { class: "handle", cx: 0, cy: h / 2, r: 7, "aria-hidden": "true" }));
    Object.assign(node, { _el: el, icon, sub });
    this._paintState(node);
    const id = skill.id;
    if (id === this.focusedId) el.setAttribute("tabindex", "0");
    if (id === this.selectedId) {
      el.classList.add("selected");
      el.setAttribute("aria-pressed", "true");
      this._selectedEl = el;
    }
    for (const [kind, marked] of this._marks) if (marked.nodes.has(id)) el.classList.add(kind);
  }

  /** Build `edge`'s path (and in edit mode its wider target for the pointer), placed and marked. */
  _buildEdge(edge) {
    edge._path = s("path", { class: "edge", "data-from": edge.from, "data-to": edge.to });
    if (this.editing) edge._hit = s("path", { class: "edge-hit", "data-from": edge.from, "data-to": edge.to });
    this._placeEdge(edge);
    for (const [kind, marked] of this._marks) if (marked.edges.has(edge)) edge._path.classList.add(kind);
    if (this._selectedEdge && this._selectedEdge[0] === edge.from && this._selectedEdge[1] === edge.to) edge._path.classList.add("selected");
  }

  _paintState(node) {
    if (this.insight) {
      this._paintInsight(node);
      return;
    }
    const state = this.states.get(node.skill.id) || "LOCKED";
    const icon = ICONS[state];
    node.el.classList.remove(...Object.keys(ICONS).map((key) => `state-${key.toLowerCase().replace("_", "-")}`));
    node.el.classList.add(`state-${state.toLowerCase().replace("_", "-")}`);
    node.el.dataset.state = state;
    node.icon.setAttribute("d", icon.d);
    node.icon.classList.toggle("solid", icon.fill);
    // Mastery (setMastery): a completed skill's level, or "Review due", replaces "Completed".
    const shownState = masteryWords(state, this.mastery?.get(node.skill.id)) || STATE_LABELS[state];
    node.el.dataset.mastery = state === "COMPLETED" ? masteryKey(this.mastery?.get(node.skill.id)) : "";
    node.sub.textContent = `${shownState} · ${node.skill.xpValue} XP`;
    // The accessible name holds the words shown, in their order (a short or cut name first, the
    // full name after it in brackets), then what is not written: WCAG 2.5.3, label in name.
    const named = node.shown === node.skill.name ? node.skill.name : `${node.shown} (${node.skill.name})`;
    const label = [`${named}: ${shownState}`, `${node.skill.xpValue} XP`];
    if (node.skill.isOptional) label.push("optional");
    if (node.skill.isMilestone) label.push("milestone");
    node.el.setAttribute("aria-label", label.join(", "));
  }

  /** A node in insight (setInsight): its funnel band's colour, a pie of the share completed,
   * the share in words, a stall ring; every number in its accessible name. */
  _paintInsight(node) {
    const figure = this.insight.get(node.skill.id) || NO_FIGURES;
    const el = node.el;
    el.classList.remove(...Object.keys(ICONS).map((key) => `state-${key.toLowerCase().replace("_", "-")}`), ...BANDS);
    el.classList.add(BANDS[figure.band]);
    el.classList.toggle("stall", Boolean(figure.stall));
    el.dataset.state = "";
    el.dataset.band = String(figure.band);
    el.dataset.stall = figure.stall ? String(figure.stall) : "";
    node.icon.setAttribute("d", piePath(figure.share));
    node.icon.classList.toggle("solid", true);
    // The longer line when the box holds it ("64% done · 120 stalled"), else the share alone.
    const room = node.box.w - TEXT_LEFT - TEXT_RIGHT;
    const sub = textWidth(figure.sub, SUB_PX) <= room ? figure.sub : figure.subShort;
    node.sub.textContent = sub;
    const named = node.shown === node.skill.name ? node.skill.name : `${node.shown} (${node.skill.name})`;
    el.setAttribute("aria-label", `${named}: ${sub}, ${figure.words}`);
  }

  /**
   * Colour the map by what learners did (issue 15 part 9) instead of one learner's states:
   * `figures` maps a skill's id to {band (0-4), share (0-1), sub, subShort, words, stall (its rank
   * among the stalls, 0 for none)}; null goes back to states.
   */
  setInsight(figures) {
    this.insight = figures;
    this.container.classList.toggle("insight", Boolean(figures));
    for (const node of this.nodes.values()) if (node._el) this._paintState(node);
    this._labelK = null;
    this._scheduleLabels();
    this.far.stale();
    this.minimap.draw();
  }

  /** Show the learner's mastery (`GET /me/trees/{slug}/mastery` skills) on the completed nodes. */
  setMastery(skills) {
    this.mastery = new Map(skills.map((entry) => [entry.skillId, entry]));
    for (const node of this.nodes.values()) if (node._el) this._paintState(node);
    this._labelK = null;
    this._scheduleLabels();
  }

  /** Show new states (after an event) on the nodes whose state changed; answers their ids. */
  updateStates(states) {
    const changed = [];
    for (const [id, state] of states) {
      if (this.states.get(id) === state) continue;
      this.states.set(id, state);
      const node = this.nodes.get(id);
      if (node) {
        if (node._el) this._paintState(node);
        changed.push(id);
      }
    }
    for (const edge of this.edges) edge._path?.classList.toggle("satisfied", this.states.get(edge.from) === "COMPLETED");
    if (changed.length) {
      this._labelK = null;
      this._scheduleLabels();
      this.far.stale();
      this.minimap.draw();
    }
    return changed;
  }

  _edgeGeometry(from, to) {
    const a = this.nodes.get(from).box;
    const b = this.nodes.get(to).box;
    // Side to side when the layout runs horizontally or the two nodes share a row; else from the
    // bottom of the prerequisite to the top of the skill that needs it.
    if (this.layout.horizontal || Math.abs(b.y - a.y) < (a.h + b.h) / 2 + 12) {
      const sign = b.x >= a.x ? 1 : -1;
      const x1 = a.x + (sign * a.w) / 2;
      const x2 = b.x - (sign * b.w) / 2;
      const bend = (x2 - x1) / 2;
      return `M${x1},${a.y} C${x1 + bend},${a.y} ${x2 - bend},${b.y} ${x2},${b.y}`;
    }
    const sign = b.y >= a.y ? 1 : -1;
    const y1 = a.y + (sign * a.h) / 2;
    const y2 = b.y - (sign * (b.h / 2 + 2));
    const bend = (y2 - y1) / 2;
    return `M${a.x},${y1} C${a.x},${y1 + bend} ${b.x},${y2 - bend} ${b.x},${y2}`;
  }

  _placeEdge(edge) {
    // An edge keeps its route until one of its ends is dragged away from its laid-out place.
    const route = edge.moved ? null : this.layout.routes?.get(`${edge.from}>${edge.to}`);
    const d = route ? routePath(route, this.layout.horizontal) : this._edgeGeometry(edge.from, edge.to);
    edge._path.setAttribute("d", d);
    if (edge._hit) edge._hit.setAttribute("d", d);
    edge._path.classList.toggle("satisfied", this.states.get(edge.from) === "COMPLETED");
  }

  // --- view: pan and zoom ---

  _apply() {
    const { x, y, k } = this.view;
    if (this.svg) this.svg.style.transform = `translate(${x}px, ${y}px) scale(${k})`;
    // A large tree's labels are made again once a zoom settles (LABEL_SETTLE), not each frame
    // (20-90 ms a build far out): until then they are scaled with the map.
    const scale = this._labelK && this._canvas ? k / this._labelK : 1;
    this.labelBox.style.transform = `translate(${x}px, ${y}px)${scale === 1 ? "" : ` scale(${scale})`}`;
    this.container.dataset.zoom = k.toFixed(3);
    // Semantic zoom, by the size text would have on screen: a node's lower line goes first,
    // then its name (map labels name the skills instead); far out, the icons too.
    this.container.classList.toggle("zoom-names", k < SUB_ZOOM);
    this.container.classList.toggle("zoom-labels", k < NAME_ZOOM);
    this.container.classList.toggle("far", k < FAR_ZOOM);
    // Labels are made for the screen and half a screen round it: again when the zoom changed or
    // the view moved a quarter of a screen.
    const moved = this._labelAt ? Math.max(Math.abs(x - this._labelAt.x) / (this.container.clientWidth || 1), Math.abs(y - this._labelAt.y) / (this.container.clientHeight || 1)) : 1;
    if (this._canvas && this._labelK && k !== this._labelK) {
      clearTimeout(this._labelTimer);
      this._labelTimer = setTimeout(() => this._scheduleLabels(), LABEL_SETTLE);
    } else if (k !== this._labelK || (k < NAME_ZOOM && moved > 0.25)) this._scheduleLabels();
    if (this._canvas && k < NAME_ZOOM !== this._far) this._setFar(k < NAME_ZOOM);
    if (this._far) this.far.schedule();
    if (this._cull) {
      const at = this._cullAt;
      const shifted = at ? Math.max(Math.abs(x - at.x) / (this.container.clientWidth || 1), Math.abs(y - at.y) / (this.container.clientHeight || 1)) : 1;
      if (!at || shifted > 0.25 || Math.abs(Math.log(k / at.k)) > 0.2) this._scheduleCull();
    }
    this.minimap.showView();
    clearTimeout(this._viewTimer);
    this._viewTimer = setTimeout(() => this.handlers.onView?.(this.viewState()), VIEW_SETTLE);
  }

  /** The view as an address keeps it: the graph point at the screen's centre, and the zoom. */
  viewState() {
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const { x, y, k } = this.view;
    return { x: Math.round(this.origin.x + (width / 2 - x) / k), y: Math.round(this.origin.y + (height / 2 - y) / k), k: Math.round(k * 1000) / 1000 };
  }

  /** Show graph point (x, y) at the screen's centre at zoom k (the current zoom by default). */
  setView({ x, y, k = this.view.k }) {
    if (![x, y, k].every(Number.isFinite)) return;
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));
    this.view = { k: zoom, x: width / 2 - (x - this.origin.x) * zoom, y: height / 2 - (y - this.origin.y) * zoom };
    this._apply();
    this._resharpen();
    this._scheduleLabels();
  }

  /** Pan and zoom to skill `id` (its name readable on the node), and pulse it. */
  goTo(id) {
    const node = this.nodes.get(id);
    if (!node) return;
    this.setView({ x: node.box.x, y: node.box.y, k: Math.max(this.view.k, 1) });
    this.pulse(id);
  }

  /** Draw the eye to skill `id`: a ring that grows and fades twice (fades only, for reduced motion). */
  pulse(id) {
    const node = this.nodes.get(id);
    if (!node) return;
    for (const old of this.svg.querySelectorAll(".pulse-ring")) old.remove();
    const { w, h: height } = node.box;
    const ring = s("rect", { class: "pulse-ring", x: -w / 2 - 6, y: -height / 2 - 6, width: w + 12, height: height + 12, rx: 14, "aria-hidden": "true" });
    ring.addEventListener("animationend", () => ring.remove());
    node.el.append(ring);
    this.container.dataset.pulsed = id;
  }

  _resharpen() {
    // A composited layer keeps the resolution it was drawn at: redraw it once the zoom settles.
    clearTimeout(this._sharpTimer);
    this._sharpTimer = setTimeout(() => {
      if (!this.svg) return;
      this.svg.style.willChange = "auto";
      requestAnimationFrame(() => {
        if (this.svg) this.svg.style.willChange = "transform";
      });
    }, 200);
  }

  /** Zoom and centre so the whole tree fits (never larger than life). */
  fit() {
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const k = Math.max(MIN_ZOOM, Math.min(1, width / this.size.w, height / this.size.h));
    this.view = { k, x: (width - this.size.w * k) / 2, y: Math.max(0, (height - this.size.h * k) / 2) };
    this._apply();
    this._resharpen();
    this._scheduleLabels();
  }

  /**
   * After an author's edit (issue 15 part 8): the whole tree in view where its names are
   * readable so; else skill `id` (the one edited) centred, at a zoom where its name is readable.
   * With no such skill, a tree too large to fit legibly keeps its view.
   */
  refit(id) {
    const width = this.container.clientWidth || 800;
    const height = this.container.clientHeight || 500;
    const fitK = Math.min(1, width / this.size.w, height / this.size.h);
    if (fitK >= NAME_ZOOM) {
      this.fit();
      return;
    }
    const node = id ? this.nodes.get(id) : null;
    if (node) this.setView({ x: node.box.x, y: node.box.y, k: Math.max(this.view.k, NAME_ZOOM) });
  }

  /** Zoom by `factor` around a point of the container (its centre by default). */
  zoom(factor, px, py) {
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    const cx = px ?? width / 2;
    const cy = py ?? height / 2;
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.view.k * factor));
    const ratio = k / this.view.k;
    this.view = { k, x: cx - (cx - this.view.x) * ratio, y: cy - (cy - this.view.y) * ratio };
    this._apply();
    this._resharpen();
  }

  panBy(dx, dy) {
    this.view.x += dx;
    this.view.y += dy;
    this._apply();
  }

  /** Pan so that skill `id` is in view (centred when it was outside). */
  reveal(id) {
    const node = this.nodes.get(id);
    if (!node) return;
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    const sx = this.view.x + (node.box.x - this.origin.x) * this.view.k;
    const sy = this.view.y + (node.box.y - this.origin.y) * this.view.k;
    const halfWidth = (node.box.w / 2) * this.view.k;
    const halfHeight = (node.box.h / 2) * this.view.k;
    if (sx < halfWidth || sy < halfHeight || sx > width - halfWidth || sy > height - halfHeight) {
      this.view.x += width / 2 - sx;
      this.view.y += height / 2 - sy;
      this._apply();
    }
  }

  /** Container pixel coordinates of a pointer event -> graph coordinates. */
  _toGraph(event) {
    const rect = this.container.getBoundingClientRect();
    return {
      x: (event.clientX - rect.left - this.view.x) / this.view.k + this.origin.x,
      y: (event.clientY - rect.top - this.view.y) / this.view.k + this.origin.y,
    };
  }

  // --- focus and keyboard ---

  _setRoving(id) {
    if (this.focusedId && this.nodes.has(this.focusedId)) this.nodes.get(this.focusedId)._el?.setAttribute("tabindex", "-1");
    this.focusedId = id;
    this.nodes.get(id).el.setAttribute("tabindex", "0");
  }

  /** Move keyboard focus to skill `id` (and into view). */
  focusNode(id) {
    if (!this.nodes.has(id)) return;
    this._setRoving(id);
    this.reveal(id);
    if (this._far) return;
    this._cullNow();
    this.nodes.get(id).el.focus({ preventScroll: true });
  }

  _neighbour(id, dx, dy) {
    const here = this.nodes.get(id).box;
    let best = null;
    let bestScore = Infinity;
    for (const [other, node] of this.nodes) {
      if (other === id) continue;
      const ox = node.box.x - here.x;
      const oy = node.box.y - here.y;
      const along = ox * dx + oy * dy;
      if (along <= 1) continue;
      const across = Math.abs(ox * dy - oy * dx);
      const score = along + 2.5 * across;
      if (score < bestScore) {
        bestScore = score;
        best = other;
      }
    }
    return best;
  }

  _onKey(event) {
    const nodeEl = event.target.closest?.(".node");
    const keys = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (nodeEl && keys[event.key]) {
      event.preventDefault();
      const next = this._neighbour(nodeEl.dataset.id, ...keys[event.key]);
      if (next) this.focusNode(next);
    } else if (nodeEl && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      this.handlers.onSelect?.(nodeEl.dataset.id);
    } else if (event.target === this.far.canvas && keys[event.key]) {
      // Far out the arrow keys move the view a quarter of the screen.
      event.preventDefault();
      const [dx, dy] = keys[event.key];
      this.panBy((-dx * this.container.clientWidth) / 4, (-dy * this.container.clientHeight) / 4);
    } else if (event.key === "+" || event.key === "=") {
      event.preventDefault();
      this.zoom(1.25);
    } else if (event.key === "-") {
      event.preventDefault();
      this.zoom(0.8);
    } else if (event.key === "0") {
      event.preventDefault();
      this.fit();
    } else if (event.key === "Escape") {
      this.clearHighlight();
      this.handlers.onEscape?.();
    }
  }

  // --- highlighting: routes, recommendations, cycles, selection ---

  /** Mark the skills `ids` (and the edges between them) as `kind` ("route", "cycle", ...). */
  highlight(ids, kind = "route", { edges = null, dim = true } = {}) {
    this.clearHighlight(kind);
    const set = new Set(ids);
    const marked = { nodes: set, edges: new Set() };
    this._marks.set(kind, marked);
    for (const id of set) this.nodes.get(id)?._el?.classList.add(kind);
    for (const edge of this.edges) {
      const on = edges ? edges.some(([from, to]) => from === edge.from && to === edge.to) : set.has(edge.from) && set.has(edge.to);
      if (on) {
        marked.edges.add(edge);
        edge._path?.classList.add(kind);
      }
    }
    if (dim) this.svg.classList.add("dim", `dim-${kind}`);
  }

  clearHighlight(kind) {
    if (!this.svg) return;
    const kinds = kind ? [kind] : ["route", "next", "cycle"];
    for (const name of kinds) {
      for (const el of this.svg.querySelectorAll(`.${name}`)) el.classList.remove(name);
      // (A large tree's nodes and arrows out of the document keep their marks otherwise.)
      const marked = this._marks?.get(name);
      if (marked) {
        for (const id of marked.nodes) this.nodes.get(id)?._el?.classList.remove(name);
        for (const edge of marked.edges) edge._path?.classList.remove(name);
        this._marks.delete(name);
      }
      this.svg.classList.remove(`dim-${name}`);
    }
    if (![...this.svg.classList].some((name) => name.startsWith("dim-"))) this.svg.classList.remove("dim");
    if (!kind || kind === "cycle") this.overlay.replaceChildren();
  }

  /** Show a refused edge `from` -> `to` (drawn dashed over the graph). */
  showRefusedEdge(from, to) {
    if (!this.nodes.has(from) || !this.nodes.has(to)) return;
    this.overlay.append(s("path", { class: "edge refused", d: this._edgeGeometry(from, to) }));
  }

  select(id) {
    this.selectedId = id && this.nodes.has(id) ? id : null;
    this._labelK = null;
    this._scheduleLabels();
    const before = this._selectedEl;
    for (const el of [...this.svg.querySelectorAll(".node.selected"), ...(before ? [before] : [])]) {
      el.classList.remove("selected");
      el.removeAttribute("aria-pressed");
    }
    this._selectedEl = id && this.nodes.has(id) ? this.nodes.get(id).el : null;
    if (id && this.nodes.has(id)) {
      this.nodes.get(id).el.classList.add("selected");
      this.nodes.get(id).el.setAttribute("aria-pressed", "true");
      this._setRoving(id);
    }
    this.far.redraw();
  }

  selectEdge(from, to) {
    this._selectedEdge = [from, to];
    for (const edge of this.edges) edge._path?.classList.toggle("selected", edge.from === from && edge.to === to);
  }

  setEditing(on) {
    this.editing = on;
  }

  // --- pointer: pan, click, drag nodes, draw edges ---

  _bindContainer() {
    this.container.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const rect = this.container.getBoundingClientRect();
        this.zoom(Math.exp(-event.deltaY * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
      },
      { passive: false },
    );
    this.container.addEventListener("keydown", (event) => this._onKey(event));
    // Focus by Tab scrolls the clipped container to the node; pan there instead.
    this.container.addEventListener("scroll", () => {
      if (!this.container.scrollTop && !this.container.scrollLeft) return;
      this.container.scrollTop = 0;
      this.container.scrollLeft = 0;
      if (this.focusedId) this.reveal(this.focusedId);
    });
    this.container.addEventListener("focusin", (event) => {
      const nodeEl = event.target.closest?.(".node");
      if (nodeEl && this.nodes.has(nodeEl.dataset.id) && this.focusedId !== nodeEl.dataset.id) this._setRoving(nodeEl.dataset.id);
    });
    // Two fingers pinch to zoom (tracked before any single-pointer gesture sees the event).
    this.container.addEventListener(
      "pointerdown",
      (event) => {
        this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (this.touches.size === 2) this._startPinch();
      },
      true,
    );
    this.container.addEventListener("pointermove", (event) => {
      if (!this.touches.has(event.pointerId)) return;
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (this.pinch) this._movePinch();
    });
    const lift = (event) => {
      this.touches.delete(event.pointerId);
      if (this.touches.size < 2) this.pinch = null;
    };
    this.container.addEventListener("pointerup", lift);
    this.container.addEventListener("pointercancel", lift);
    this.container.addEventListener("pointerdown", (event) => this._onPointerDown(event));
    // The full name as a tooltip, made when first pointed at (a thousand <title>s slow the
    // first render; screen readers have the aria-label).
    this.container.addEventListener("pointerover", (event) => {
      const nodeEl = event.target.closest?.(".node");
      if (nodeEl && !nodeEl.querySelector("title") && this.nodes.has(nodeEl.dataset.id)) nodeEl.append(s("title", {}, this.nodes.get(nodeEl.dataset.id).skill.name));
    });
  }

  _pinchState() {
    const [a, b] = [...this.touches.values()];
    const rect = this.container.getBoundingClientRect();
    return { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, x: (a.x + b.x) / 2 - rect.left, y: (a.y + b.y) / 2 - rect.top };
  }

  _startPinch() {
    this.pinch = { ...this._pinchState(), view: { ...this.view } };
  }

  _movePinch() {
    const now = this._pinchState();
    const { view } = this.pinch;
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, (view.k * now.distance) / this.pinch.distance));
    // The point that was under the fingers' midpoint stays under it.
    const gx = (this.pinch.x - view.x) / view.k;
    const gy = (this.pinch.y - view.y) / view.k;
    this.view = { k, x: now.x - gx * k, y: now.y - gy * k };
    this._apply();
    this._resharpen();
  }

  _onPointerDown(event) {
    if (this.pinch || event.button !== 0 || event.target.closest?.(".graph-controls, .minimap")) return;
    const nodeEl = event.target.closest?.(".node");
    // Far out the canvas has no node elements: the block under the pointer is found by its place.
    const farId = !nodeEl && event.target === this.far.canvas ? this.far.skillAt(event.clientX, event.clientY) : null;
    const edgeHit = event.target.closest?.(".edge-hit");
    const start = { x: event.clientX, y: event.clientY };
    let mode = "pan";
    if (this.editing && event.target.classList.contains("handle")) mode = "connect";
    else if (this.editing && nodeEl) mode = "drag";
    const id = nodeEl?.dataset.id ?? farId;
    const view = { ...this.view };
    const node = id ? this.nodes.get(id) : null;
    const original = node ? { x: node.box.x, y: node.box.y } : null;
    let moved = false;
    let band = null;
    let frame = 0;
    this.container.setPointerCapture(event.pointerId);

    const onMove = (move) => {
      if (move.pointerId !== event.pointerId) return;
      if (this.pinch) {
        moved = true;
        return;
      }
      const dx = move.clientX - start.x;
      const dy = move.clientY - start.y;
      if (!moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      moved = true;
      if (mode === "pan") {
        this.view.x = view.x + dx;
        this.view.y = view.y + dy;
        if (!frame) {
          frame = requestAnimationFrame(() => {
            frame = 0;
            this._apply();
          });
        }
      } else if (mode === "drag") {
        node.box.x = original.x + dx / this.view.k;
        node.box.y = original.y + dy / this.view.k;
        node.el.setAttribute("transform", `translate(${node.box.x},${node.box.y})`);
        for (const edge of this.edges) {
          if (edge.from !== id && edge.to !== id) continue;
          edge.moved = true;
          if (edge._path) this._placeEdge(edge);
        }
      } else if (mode === "connect") {
        const point = this._toGraph(move);
        const from = node.box;
        if (!band) {
          band = s("path", { class: "edge drawing" });
          this.overlay.append(band);
        }
        band.setAttribute("d", `M${from.x},${from.y + from.h / 2} L${point.x},${point.y}`);
      }
    };
    const onUp = (up) => {
      if (up.pointerId !== event.pointerId) return;
      this.container.removeEventListener("pointermove", onMove);
      this.container.removeEventListener("pointerup", onUp);
      this.container.removeEventListener("pointercancel", onUp);
      if (frame) cancelAnimationFrame(frame);
      this._apply();
      if (band) band.remove();
      if (up.type === "pointercancel") return;
      if (mode === "connect") {
        const target = document.elementsFromPoint(up.clientX, up.clientY).map((el) => el.closest?.(".node")).find((el) => el && el.dataset.id !== id);
        if (target) this.handlers.onConnect?.(id, target.dataset.id);
      } else if (mode === "drag" && moved) {
        this.handlers.onMove?.(id, Math.round(node.box.x), Math.round(node.box.y));
      } else if (!moved && id) {
        this.focusNode(id);
        this.handlers.onSelect?.(id);
      } else if (!moved && edgeHit) {
        this.handlers.onEdgeSelect?.(edgeHit.dataset.from, edgeHit.dataset.to);
      }
    };
    this.container.addEventListener("pointermove", onMove);
    this.container.addEventListener("pointerup", onUp);
    this.container.addEventListener("pointercancel", onUp);
  }
}
