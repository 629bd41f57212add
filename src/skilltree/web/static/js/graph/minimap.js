// The whole tree in a corner of the map, each skill a block in its state's colour, with the part
// on screen framed: click or drag in it to move the view there. Shown only while part of the tree
// is off screen. A pointer's aid: keyboard users have the arrow keys and the find box.

import { h } from "../dom.js";

const MAX_WIDTH = 200;
const MAX_HEIGHT = 150;
const COLOURS = { LOCKED: "--locked", AVAILABLE: "--available", IN_PROGRESS: "--progress", COMPLETED: "--completed", SKIPPED: "--skipped" };

export class Minimap {
  /** @param {import("./render.js").GraphView} graph */
  constructor(graph) {
    this.graph = graph;
    this.scale = 1;
    this.canvas = h("canvas", { class: "minimap-canvas" });
    this.frame = h("div", { class: "minimap-view" });
    this.el = h("div", { class: "minimap", "aria-hidden": "true", title: "The whole tree: click or drag to move the view", hidden: true }, this.canvas, this.frame);
    graph.container.append(this.el);
    // The blocks are drawn in the theme's colours: drawn again when the theme changes.
    const redraw = () => {
      if (this.el.isConnected) this.draw();
      else document.removeEventListener("themechange", redraw);
    };
    document.addEventListener("themechange", redraw);
    this.el.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      event.stopPropagation();
      this.el.setPointerCapture(event.pointerId);
      this._moveTo(event);
      const move = (next) => next.pointerId === event.pointerId && this._moveTo(next);
      const up = (next) => {
        if (next.pointerId !== event.pointerId) return;
        this.el.removeEventListener("pointermove", move);
        this.el.removeEventListener("pointerup", up);
        this.el.removeEventListener("pointercancel", up);
      };
      this.el.addEventListener("pointermove", move);
      this.el.addEventListener("pointerup", up);
      this.el.addEventListener("pointercancel", up);
    });
  }

  /** Draw every skill (after a render, or when states changed). */
  draw() {
    const { graph } = this;
    if (!graph.size || !graph.nodes.size) return;
    const container = graph.container;
    const maxWidth = Math.min(MAX_WIDTH, (container.clientWidth || 800) * 0.3);
    const maxHeight = Math.min(MAX_HEIGHT, (container.clientHeight || 500) * 0.3);
    this.scale = Math.min(maxWidth / graph.size.w, maxHeight / graph.size.h);
    const width = Math.max(1, Math.round(graph.size.w * this.scale));
    const height = Math.max(1, Math.round(graph.size.h * this.scale));
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.el.style.width = `${width}px`;
    this.el.style.height = `${height}px`;
    this.size = { width, height };
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(document.documentElement);
    const colours = Object.fromEntries(Object.entries(COLOURS).map(([state, name]) => [state, style.getPropertyValue(name).trim()]));
    // In insight (render.js setInsight) a block takes its funnel band's colour.
    const bands = [0, 1, 2, 3, 4].map((band) => style.getPropertyValue(`--band-${band}`).trim());
    const { origin } = graph;
    for (const [id, node] of graph.nodes) {
      const { x, y, w, h: boxHeight } = node.box;
      ctx.fillStyle = graph.insight ? bands[graph.insight.get(id)?.band || 0] : colours[graph.states.get(id) || "LOCKED"];
      const bw = Math.max(2, w * this.scale);
      const bh = Math.max(2, boxHeight * this.scale);
      ctx.fillRect((x - origin.x) * this.scale - bw / 2, (y - origin.y) * this.scale - bh / 2, bw, bh);
    }
    this.showView();
  }

  /** Frame the part of the tree on screen; hidden while the whole tree is. */
  showView() {
    const { graph } = this;
    if (!this.size) return;
    const { x, y, k } = graph.view;
    const width = graph.container.clientWidth || 800;
    const height = graph.container.clientHeight || 500;
    const left = (-x / k) * this.scale;
    const top = (-y / k) * this.scale;
    const right = ((width - x) / k) * this.scale;
    const bottom = ((height - y) / k) * this.scale;
    const whole = left <= 0.5 && top <= 0.5 && right >= this.size.width - 0.5 && bottom >= this.size.height - 0.5;
    this.el.hidden = whole;
    const clamp = (value, most) => Math.min(Math.max(value, 0), most);
    const [x0, y0] = [clamp(left, this.size.width), clamp(top, this.size.height)];
    const [x1, y1] = [clamp(right, this.size.width), clamp(bottom, this.size.height)];
    this.frame.style.left = `${x0}px`;
    this.frame.style.top = `${y0}px`;
    this.frame.style.width = `${Math.max(0, x1 - x0)}px`;
    this.frame.style.height = `${Math.max(0, y1 - y0)}px`;
  }

  _moveTo(event) {
    const rect = this.canvas.getBoundingClientRect();
    const { origin } = this.graph;
    this.graph.setView({ x: origin.x + (event.clientX - rect.left) / this.scale, y: origin.y + (event.clientY - rect.top) / this.scale });
  }
}
