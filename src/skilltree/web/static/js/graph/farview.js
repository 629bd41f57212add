// A large tree far out (issue 15 part 7), drawn on a <canvas> the size of the screen: each skill a
// block in its state's (or insight band's) colours, each arrow a line along its route. The
// blocks and lines are built once as paths in graph units (again when the states, the insight or
// the theme change) and drawn again each frame the view moves, scaled by the context: no element
// per skill, and no layer the size of the whole map for the browser to raster (the scaled SVG's
// far-out frames took seconds). Names are the map labels' (render.js _buildLabels); the SVG takes
// over where names are readable on the nodes (render.js NAME_ZOOM), and keyboard users reach the
// skills there, through the find box or the list of all skills (the canvas's accessible name
// says so).

import { h } from "../dom.js";

const STATE_COLOURS = {
  LOCKED: ["--locked-swatch", "--locked"],
  AVAILABLE: ["--available-bg", "--available"],
  IN_PROGRESS: ["--progress-bg", "--progress"],
  COMPLETED: ["--completed", "--completed-line"],
  SKIPPED: ["--skipped-bg", "--skipped"],
};
const BAND_COLOURS = [0, 1, 2, 3, 4].map((band) => [`--band-${band}`, `--band-${band}-line`]);
/** Arrows and outlines, in CSS px on screen whatever the zoom. */
const EDGE_PX = 1.2;
const OUTLINE_PX = 1;
const SELECTED_PX = 3;
/** The buffer is copied up to this zoom from the one it was drawn at (either way). */
const BUFFER_SCALE = 2;
/** How long after the view last moved the buffer is drawn anew, sharp (ms). */
const SHARP_AFTER = 150;

export class FarView {
  /** @param {import("./render.js").GraphView} graph */
  constructor(graph) {
    this.graph = graph;
    this.paths = null;
    this.frame = 0;
    this.canvas = h("canvas", { class: "graph-far", role: "img", tabindex: "0", hidden: true });
    graph.container.prepend(this.canvas);
    const redraw = () => {
      if (!this.canvas.isConnected) {
        document.removeEventListener("themechange", redraw);
        return;
      }
      this.paths = null;
      this.schedule();
    };
    document.addEventListener("themechange", redraw);
    new ResizeObserver(() => this.schedule()).observe(graph.container);
  }

  get shown() {
    return !this.canvas.hidden;
  }

  /** Show or hide the canvas (drawn at once when shown). */
  show(on, name) {
    this.canvas.hidden = !on;
    if (!on) return;
    this.canvas.setAttribute(
      "aria-label",
      `${name}: the whole map, too small to read. Zoom in (plus key or the Zoom in button) to read and choose skills, or use Find a skill or the list of all skills.`,
    );
    this.draw();
  }

  /** The paths are built again when next drawn (states, insight or layout changed). */
  stale() {
    this.paths = null;
    this.kept = null;
    this.schedule();
  }

  /** Build the paths when the page is idle (100 ms or more on 5,000 skills), before first shown. */
  prepare() {
    const idle = window.requestIdleCallback || ((call) => setTimeout(call, 200));
    idle(() => {
      if (!this.paths && this.graph.nodes.size && this.canvas.isConnected) this._build();
    });
  }

  /** Draw anew (not from the buffer) on the next frame: the selection changed. */
  redraw() {
    this.kept = null;
    this.schedule();
  }

  schedule() {
    if (!this.shown || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  _build() {
    const { graph } = this;
    const style = getComputedStyle(document.documentElement);
    const colour = (name) => style.getPropertyValue(name).trim();
    const groups = new Map();
    for (const [id, node] of graph.nodes) {
      const [fill, line] = graph.insight ? BAND_COLOURS[graph.insight.get(id)?.band || 0] : STATE_COLOURS[graph.states.get(id) || "LOCKED"];
      const key = `${fill}|${line}`;
      if (!groups.has(key)) groups.set(key, { fill: colour(fill), line: colour(line), path: new Path2D() });
      const b = node.box;
      groups.get(key).path.rect(b.x - b.w / 2, b.y - b.h / 2, b.w, b.h);
    }
    const plain = new Path2D();
    const satisfied = new Path2D();
    for (const edge of graph.edges) {
      const route = edge.moved ? null : graph.layout.routes?.get(`${edge.from}>${edge.to}`);
      const a = graph.nodes.get(edge.from).box;
      const b = graph.nodes.get(edge.to).box;
      const points = route || [a.x, a.y, b.x, b.y];
      const path = !graph.insight && graph.states.get(edge.from) === "COMPLETED" ? satisfied : plain;
      path.moveTo(points[0], points[1]);
      for (let i = 2; i < points.length; i += 2) path.lineTo(points[i], points[i + 1]);
    }
    this.paths = {
      blocks: [...groups.values()],
      edges: [
        { path: plain, colour: colour("--edge") },
        { path: satisfied, colour: colour("--edge-satisfied") },
      ],
      selected: colour("--accent"),
    };
  }

  /**
   * Draw the map as the view shows it now. While the view is within the buffer (the screen and
   * half a screen round it, drawn when the view last settled) and within BUFFER_SCALE of its zoom,
   * the buffer's picture is copied, moved and scaled (a few milliseconds); else every block and
   * line is drawn for the screen alone. Once the view has settled, the buffer is drawn anew for
   * it, sharp, when the page is idle.
   */
  draw() {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const { graph, canvas } = this;
    if (!this.shown || !graph.nodes.size) return;
    const width = graph.container.clientWidth || 800;
    const height = graph.container.clientHeight || 500;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
      this.kept = null;
    }
    if (!this.paths) {
      this._build();
      this.kept = null;
    }
    const { x, y, k } = graph.view;
    const kept = this.kept;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const s = kept ? k / kept.k : 1;
    // The screen's corners in the buffer's CSS pixels (its (0, 0) is half a screen up and left of
    // the screen it was drawn for).
    const inside = (sx, sy) => {
      const bx = (sx - x) / s + kept.x + width / 2;
      const by = (sy - y) / s + kept.y + height / 2;
      return bx >= 0 && by >= 0 && bx <= 2 * width && by <= 2 * height;
    };
    if (kept && s <= BUFFER_SCALE && s >= 1 / BUFFER_SCALE && inside(0, 0) && inside(width, height)) {
      ctx.imageSmoothingEnabled = s !== 1;
      ctx.setTransform(s, 0, 0, s, ratio * (x - (kept.x + width / 2) * s), ratio * (y - (kept.y + height / 2) * s));
      ctx.drawImage(kept.canvas, 0, 0);
    } else {
      this._paint(ctx, ratio, 0, 0);
    }
    if (!kept || s !== 1 || kept.x !== x || kept.y !== y) this._settle();
    graph.container.dataset.farDrawn = String(graph.nodes.size);
  }

  /** Once the view has not moved for SHARP_AFTER ms, draw the buffer for it when idle, and show it. */
  _settle() {
    clearTimeout(this.sharpTimer);
    this.sharpTimer = setTimeout(() => {
      const idle = window.requestIdleCallback || ((call) => setTimeout(call, 0));
      idle(() => {
        if (!this.shown) return;
        const width = this.graph.container.clientWidth || 800;
        const height = this.graph.container.clientHeight || 500;
        const ratio = window.devicePixelRatio || 1;
        const buffer = this.kept?.canvas || document.createElement("canvas");
        buffer.width = Math.round(2 * width * ratio);
        buffer.height = Math.round(2 * height * ratio);
        const ctx = buffer.getContext("2d");
        this._paint(ctx, ratio, width / 2, height / 2);
        this.kept = { canvas: buffer, ...this.graph.view };
        this.schedule();
      });
    }, SHARP_AFTER);
  }

  /** Every block and line, as the view places them, moved by (dx, dy) CSS px, into `ctx`. */
  _paint(ctx, ratio, dx, dy) {
    const { graph } = this;
    const { x, y, k } = graph.view;
    const { origin } = graph;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    // Graph units -> device pixels: as the SVG's transform places them.
    ctx.setTransform(ratio * k, 0, 0, ratio * k, ratio * (x + dx - origin.x * k), ratio * (y + dy - origin.y * k));
    ctx.lineWidth = EDGE_PX / k;
    for (const { path, colour } of this.paths.edges) {
      ctx.strokeStyle = colour;
      ctx.stroke(path);
    }
    ctx.lineWidth = OUTLINE_PX / k;
    for (const block of this.paths.blocks) {
      ctx.fillStyle = block.fill;
      ctx.fill(block.path);
      ctx.strokeStyle = block.line;
      ctx.stroke(block.path);
    }
    const selected = graph.selectedId && graph.nodes.get(graph.selectedId);
    if (selected) {
      const b = selected.box;
      const pad = (SELECTED_PX * 2) / k;
      ctx.lineWidth = SELECTED_PX / k;
      ctx.strokeStyle = this.paths.selected;
      ctx.strokeRect(b.x - b.w / 2 - pad, b.y - b.h / 2 - pad, b.w + 2 * pad, b.h + 2 * pad);
    }
  }

  /** The skill whose block is under client point (cx, cy), or null. */
  skillAt(cx, cy) {
    const { graph } = this;
    const rect = graph.container.getBoundingClientRect();
    const { x, y, k } = graph.view;
    const gx = (cx - rect.left - x) / k + graph.origin.x;
    const gy = (cy - rect.top - y) / k + graph.origin.y;
    for (const [id, node] of graph.nodes) {
      const b = node.box;
      if (Math.abs(b.x - gx) <= b.w / 2 && Math.abs(b.y - gy) <= b.h / 2) return id;
    }
    return null;
  }
}
