// The map layout benchmark's page side (benchmarks/bench_map_layout.py): lays a tree document out
// with one engine in a worker, and counts the crossings of the lines as drawn.

import { layoutFor, layoutInput } from "/static/js/graph/layout.js";
import { routePieces } from "/static/js/graph/render.js";

const CELL = 64;
const CURVE_STEPS = 16;

function cubic(piece, t) {
  const [x0, y0, c1x, c1y, c2x, c2y, x1, y1] = piece;
  const u = 1 - t;
  const [a, b, c, d] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return [a * x0 + b * c1x + c * c2x + d * x1, a * y0 + b * c1y + c * c2y + d * y1];
}

/** A route as the polyline drawn: our curves sampled finely, other engines' lines as they are. */
function polyline(points, curved) {
  if (!curved) return points;
  const line = [points[0], points[1]];
  for (const piece of routePieces(points, false)) {
    const straight = piece[2] === piece[0] && piece[3] === piece[1] && piece[4] === piece[6] && piece[5] === piece[7];
    for (let k = 1, steps = straight ? 1 : CURVE_STEPS; k <= steps; k += 1) line.push(...cubic(piece, k / steps));
  }
  return line;
}

function orientation(ax, ay, bx, by, cx, cy) {
  const v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  return Math.abs(v) < 1e-9 ? 0 : Math.sign(v);
}

/**
 * Crossings among `lines` ({from, to, points}): pairs of segments of lines with no end in common
 * that properly cross, each counted once (in the grid cell holding the crossing point).
 */
export function countCrossings(lines) {
  const grid = new Map();
  let count = 0;
  lines.forEach((line, index) => {
    const p = line.points;
    for (let i = 2; i < p.length; i += 2) {
      const [x0, y0, x1, y1] = [p[i - 2], p[i - 1], p[i], p[i + 1]];
      if (x0 === x1 && y0 === y1) continue;
      const seg = [x0, y0, x1, y1, index];
      for (let cx = Math.floor(Math.min(x0, x1) / CELL); cx <= Math.floor(Math.max(x0, x1) / CELL); cx += 1) {
        for (let cy = Math.floor(Math.min(y0, y1) / CELL); cy <= Math.floor(Math.max(y0, y1) / CELL); cy += 1) {
          const key = `${cx},${cy}`;
          let cell = grid.get(key);
          if (!cell) grid.set(key, (cell = []));
          for (const other of cell) {
            const them = lines[other[4]];
            if (other[4] === index || them.from === line.from || them.from === line.to || them.to === line.from || them.to === line.to) continue;
            const [u0, v0, u1, v1] = other;
            const o1 = orientation(x0, y0, x1, y1, u0, v0);
            const o2 = orientation(x0, y0, x1, y1, u1, v1);
            const o3 = orientation(u0, v0, u1, v1, x0, y0);
            const o4 = orientation(u0, v0, u1, v1, x1, y1);
            if (!(o1 * o2 < 0 && o3 * o4 < 0)) continue;
            // Where they cross: counted in that cell only.
            const t = ((u0 - x0) * (v1 - v0) - (v0 - y0) * (u1 - u0)) / ((x1 - x0) * (v1 - v0) - (y1 - y0) * (u1 - u0));
            const [px, py] = [x0 + t * (x1 - x0), y0 + t * (y1 - y0)];
            if (Math.floor(px / CELL) === cx && Math.floor(py / CELL) === cy) count += 1;
          }
          cell.push(seg);
        }
      }
    }
  });
  return count;
}

/** Lay `doc` out with `engine` in a worker; {ms, crossings}, or {timedOut} after `limitMs`. */
export function run(engine, doc, limitMs) {
  const input = layoutInput(doc);
  const worker = new Worker("/bench/map_layout_worker.js", { type: "module" });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.terminate();
      resolve({ timedOut: true });
    }, limitMs);
    worker.onerror = (event) => {
      clearTimeout(timer);
      worker.terminate();
      reject(new Error(event.message || "the worker failed"));
    };
    worker.onmessage = ({ data }) => {
      clearTimeout(timer);
      worker.terminate();
      const lines = input.edges.map(([from, to], i) => ({ from, to, points: polyline(data.routes[i], data.curved) }));
      resolve({ ms: data.ms, crossings: countCrossings(lines) });
    };
    worker.postMessage({ engine, sizes: input.sizes, edges: input.edges });
  });
}

/** What the web app pays for the layout of `doc` as tree `slug`: {ms, source}. */
export async function appLayout(slug, doc) {
  const started = performance.now();
  const layout = await layoutFor(slug, doc);
  return { ms: performance.now() - started, source: layout.source };
}
