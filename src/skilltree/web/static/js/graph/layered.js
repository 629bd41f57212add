// A layered drawing of a directed acyclic graph (the Sugiyama method, as dagre and ELK's layered
// algorithm do it), with no DOM: the web app runs it in a worker, the benchmark next to dagre's
// and ELK's.
//
// 1. Layers by longest path from the roots: a node sits one layer below its deepest prerequisite
//    (the document's `layers`, and what a learner reads as "what comes first").
// 2. An edge longer than one layer is cut by a dummy node in every layer it crosses, so that it
//    takes a slot of its own there and is routed around the nodes, never under one.
// 3. The order in each layer minimises crossings: barycentre sweeps down and up from several
//    starting orders (the input order first, so that ties follow it), the best order kept, then
//    adjacent nodes swapped wherever that removes crossings (ELK's greedy switch).
// 4. Across, each node is placed by Brandes and Köpf's method (straight long edges, nodes centred
//    over their neighbours), then any overlap left is pushed apart.
// 5. Each edge leaves its source's bottom and enters its target's top at a port of its own, runs
//    straight down through the layers it crosses and bends only in the gaps between layers.
//
// Deterministic: the same input gives the same drawing (the random restarts use a fixed seed).

const DEFAULTS = { nodeGap: 36, edgeGap: 14, layerGap: 64, arrowGap: 2, portStep: 14 };

/**
 * Lay out nodes `sizes` ({w, h} by node number) joined by `edges` ([from, to]: `from` is drawn
 * above `to`). The input order is the preferred order within a layer.
 * Answers {x, y} (node centres by node number), `layer` by node number, `layers` (node numbers
 * in drawing order), `routes` (one flat [x0, y0, x1, y1, ...] per edge, null for an edge that
 * closes a cycle, which is not drawn by the layout) and `crossings`.
 */
export function layered(sizes, edges, options = {}) {
  const opt = { ...DEFAULTS, ...options };
  const n = sizes.length;
  const graph = buildGraph(n, edges);
  const layerOf = assignLayers(n, graph);
  const proper = properGraph(n, edges, graph, layerOf, sizes);
  const order = minimiseCrossings(proper, opt);
  const crossings = countAll(order, proper);
  const x = placeAcross(order, proper, opt);
  const bands = placeLayers(order, proper, opt);
  const routes = route(edges, proper, order, x, bands, sizes, layerOf, opt);
  const y = new Float64Array(n);
  for (let v = 0; v < n; v += 1) y[v] = bands.centre[layerOf[v]];
  return { x: x.subarray(0, n), y, layer: layerOf, layers: order.map((layer) => layer.filter((v) => v < n)), routes, crossings };
}

/**
 * `layered`'s answer as a few typed arrays (cheap to send from a worker and to keep in
 * IndexedDB): node centres, and every route's points in one array, edge e's from `start[e]` to
 * `start[e + 1]` (an empty route for an edge not drawn).
 */
export function packed(result) {
  const start = new Int32Array(result.routes.length + 1);
  let length = 0;
  result.routes.forEach((points, e) => {
    start[e] = length;
    length += points ? points.length : 0;
  });
  start[result.routes.length] = length;
  const points = new Float64Array(length);
  result.routes.forEach((route, e) => route && points.set(route, start[e]));
  return { x: Float64Array.from(result.x), y: result.y, crossings: result.crossings, points, start };
}

// --- the graph and its layers ---

function buildGraph(n, edges) {
  const preds = Array.from({ length: n }, () => []);
  const succs = Array.from({ length: n }, () => []);
  const seen = new Set();
  for (const [from, to] of edges) {
    if (from === to || !(from >= 0 && from < n && to >= 0 && to < n)) continue;
    const key = from * n + to;
    if (seen.has(key)) continue;
    seen.add(key);
    preds[to].push(from);
    succs[from].push(to);
  }
  return { preds, succs };
}

function assignLayers(n, { preds, succs }) {
  const layer = new Int32Array(n);
  const missing = new Int32Array(n);
  for (let v = 0; v < n; v += 1) missing[v] = preds[v].length;
  const queue = [];
  for (let v = 0; v < n; v += 1) if (!missing[v]) queue.push(v);
  const done = new Uint8Array(n);
  let head = 0;
  for (;;) {
    while (head < queue.length) {
      const v = queue[head++];
      done[v] = 1;
      for (const w of succs[v]) {
        layer[w] = Math.max(layer[w], layer[v] + 1);
        missing[w] -= 1;
        if (!missing[w]) queue.push(w);
      }
    }
    // A cycle (the database refuses them; a document could still hold one): its first node is
    // taken as if its unplaced prerequisites were not there, and its edge back is not drawn.
    let stuck = -1;
    for (let v = 0; v < n && stuck < 0; v += 1) if (!done[v] && !queue.includes(v)) stuck = v;
    if (stuck < 0) break;
    missing[stuck] = 0;
    queue.push(stuck);
  }
  return layer;
}

/** The graph with a dummy node wherever an edge crosses a layer: every edge joins adjacent layers. */
function properGraph(n, edges, { preds }, layerOf, sizes) {
  const up = [];
  const down = [];
  const layerOfAll = [...layerOf];
  const width = sizes.map((size) => size.w);
  const height = sizes.map((size) => size.h);
  for (let v = 0; v < n; v += 1) {
    up.push([]);
    down.push([]);
  }
  const chains = new Array(edges.length).fill(null);
  const seen = new Map();
  edges.forEach(([from, to], index) => {
    if (!preds[to]?.includes(from) || layerOf[to] <= layerOf[from]) return;
    const key = from * n + to;
    if (seen.has(key)) {
      chains[index] = chains[seen.get(key)];
      return;
    }
    seen.set(key, index);
    const chain = [from];
    let last = from;
    for (let l = layerOf[from] + 1; l < layerOf[to]; l += 1) {
      const dummy = up.length;
      up.push([last]);
      down.push([]);
      layerOfAll.push(l);
      width.push(0);
      down[last].push(dummy);
      chain.push(dummy);
      last = dummy;
    }
    down[last].push(to);
    up[to].push(last);
    chain.push(to);
    chains[index] = chain;
  });
  const depth = layerOfAll.reduce((max, l) => Math.max(max, l + 1), 0);
  const maxDegree = down.reduce((max, next) => Math.max(max, next.length), 1);
  return { n, size: up.length, up, down, layerOf: layerOfAll, width, height, chains, depth, maxDegree };
}

// --- crossing minimisation ---

/** Layers in the input order (real nodes by number, each dummy after its edge's source side). */
function inputOrder(proper) {
  const layers = Array.from({ length: proper.depth }, () => []);
  const key = new Float64Array(proper.size);
  for (let v = 0; v < proper.n; v += 1) layers[proper.layerOf[v]].push(v);
  for (let l = 0; l < proper.depth; l += 1) {
    layers[l].forEach((v, i) => {
      key[v] = (i + 0.5) / layers[l].length;
    });
  }
  const dummiesByLayer = Array.from({ length: proper.depth }, () => []);
  for (let v = proper.n; v < proper.size; v += 1) dummiesByLayer[proper.layerOf[v]].push(v);
  for (let l = 0; l < proper.depth; l += 1) {
    for (const d of dummiesByLayer[l]) key[d] = key[proper.up[d][0]];
    layers[l].push(...dummiesByLayer[l]);
    layers[l].sort((a, b) => key[a] - key[b] || a - b);
    layers[l].forEach((v, i) => {
      key[v] = (i + 0.5) / layers[l].length;
    });
  }
  return layers;
}

/**
 * Layers in depth-first order from the roots: following edges downwards only (dagre's starting
 * order), or both ways (which lays a chain of nodes that share neighbours side by side).
 */
function depthFirstOrder(proper, bothWays) {
  const layers = Array.from({ length: proper.depth }, () => []);
  const visited = new Uint8Array(proper.size);
  const roots = [];
  for (let v = 0; v < proper.size; v += 1) if (!proper.up[v].length) roots.push(v);
  roots.sort((a, b) => proper.layerOf[a] - proper.layerOf[b] || a - b);
  for (const root of roots) {
    const stack = [root];
    while (stack.length) {
      const v = stack.pop();
      if (visited[v]) continue;
      visited[v] = 1;
      layers[proper.layerOf[v]].push(v);
      const next = bothWays ? [...proper.down[v], ...proper.up[v]] : proper.down[v];
      for (let i = next.length - 1; i >= 0; i -= 1) if (!visited[next[i]]) stack.push(next[i]);
    }
  }
  return layers;
}

function shuffledOrder(layers, random) {
  return layers.map((layer) => {
    const copy = [...layer];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  });
}

function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function positionsOf(layers, size) {
  const pos = new Int32Array(size);
  for (const layer of layers) layer.forEach((v, i) => (pos[v] = i));
  return pos;
}

/** Crossings between layer `l` and the one below it (Barth, Jünger and Mutzel's accumulator tree). */
function countBetween(layers, l, proper, pos, scratch) {
  const upper = layers[l];
  const lower = layers[l + 1];
  if (!lower || !lower.length) return 0;
  let size = 1;
  while (size < lower.length) size *= 2;
  const tree = scratch.tree.length >= 2 * size ? scratch.tree : (scratch.tree = new Int32Array(4 * size));
  tree.fill(0, 0, 2 * size);
  const targets = scratch.targets;
  let crossings = 0;
  for (const v of upper) {
    const down = proper.down[v];
    let count = 0;
    // Insertion sort: a node has few neighbours below.
    for (const w of down) {
      let i = count++;
      const p = pos[w];
      while (i > 0 && targets[i - 1] > p) {
        targets[i] = targets[i - 1];
        i -= 1;
      }
      targets[i] = p;
    }
    for (let k = 0; k < count; k += 1) {
      let index = targets[k] + size;
      tree[index] += 1;
      while (index > 1) {
        if (index % 2 === 0) crossings += tree[index + 1];
        index >>= 1;
        tree[index] += 1;
      }
    }
  }
  return crossings;
}

function countAll(layers, proper, pos = positionsOf(layers, proper.size)) {
  const scratch = proper.scratch || (proper.scratch = { tree: new Int32Array(64), targets: new Int32Array(proper.maxDegree) });
  let total = 0;
  for (let l = 0; l + 1 < layers.length; l += 1) total += countBetween(layers, l, proper, pos, scratch);
  return total;
}

/** One barycentre sweep, down (each layer by its upper neighbours) or up. */
function sweep(layers, proper, pos, downwards, tiesRight) {
  const bary = proper.bary || (proper.bary = new Float64Array(proper.size));
  const range = downwards ? [1, layers.length, 1] : [layers.length - 2, -1, -1];
  for (let l = range[0]; l !== range[1]; l += range[2]) {
    const layer = layers[l];
    for (const v of layer) {
      const neighbours = downwards ? proper.up[v] : proper.down[v];
      if (!neighbours.length) {
        bary[v] = -1;
        continue;
      }
      let sum = 0;
      for (const u of neighbours) sum += pos[u];
      bary[v] = sum / neighbours.length;
    }
    // Nodes with no neighbour on that side keep their places; the others are sorted around them.
    const movable = layer.filter((v) => bary[v] >= 0);
    movable.sort((a, b) => bary[a] - bary[b] || (tiesRight ? pos[b] - pos[a] : pos[a] - pos[b]));
    let next = 0;
    for (let i = 0; i < layer.length; i += 1) if (bary[layer[i]] >= 0) layer[i] = movable[next++];
    layer.forEach((v, i) => (pos[v] = i));
  }
}

/** Crossings among the edges of `u` and `v` (on both sides): [with u left of v, with v left of u]. */
function pairCrossings(u, v, proper, pos) {
  let leftFirst = 0;
  let rightFirst = 0;
  for (const side of [proper.up, proper.down]) {
    const a = side[u];
    const b = side[v];
    if (!a.length || !b.length) continue;
    for (const p of a) {
      const at = pos[p];
      for (const q of b) {
        if (at > pos[q]) leftFirst += 1;
        else if (at < pos[q]) rightFirst += 1;
      }
    }
  }
  return [leftFirst, rightFirst];
}

/** Swap adjacent nodes wherever that removes crossings, until no swap does. */
function greedySwitch(layers, proper, pos, maxPasses) {
  for (let pass = 0; pass < maxPasses; pass += 1) {
    let improved = false;
    for (const layer of layers) {
      for (let i = 0; i + 1 < layer.length; i += 1) {
        const u = layer[i];
        const v = layer[i + 1];
        const [asIs, swapped] = pairCrossings(u, v, proper, pos);
        if (swapped < asIs) {
          layer[i] = v;
          layer[i + 1] = u;
          pos[v] = i;
          pos[u] = i + 1;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
}

function improve(start, proper, opt) {
  const layers = start.map((layer) => [...layer]);
  const pos = positionsOf(layers, proper.size);
  let best = layers.map((layer) => [...layer]);
  let bestCount = countAll(layers, proper, pos);
  for (let i = 0, calm = 0; i < opt.sweeps && calm < 4 && bestCount > 0; i += 1) {
    sweep(layers, proper, pos, i % 2 === 0, i % 4 >= 2);
    const count = countAll(layers, proper, pos);
    if (count < bestCount) {
      best = layers.map((layer) => [...layer]);
      bestCount = count;
      calm = 0;
    } else {
      calm += 1;
    }
  }
  if (bestCount > 0) {
    const bestPos = positionsOf(best, proper.size);
    greedySwitch(best, proper, bestPos, opt.switchPasses);
    bestCount = countAll(best, proper, bestPos);
  }
  return { layers: best, count: bestCount };
}

function minimiseCrossings(proper, opt) {
  // Fewer restarts on larger graphs keeps a 5,000-skill tree within a second.
  const restarts = opt.restarts ?? (proper.size <= 300 ? 12 : proper.size <= 3000 ? 6 : proper.size <= 6000 ? 3 : 1);
  const settings = { sweeps: opt.sweeps ?? 24, switchPasses: opt.switchPasses ?? 8 };
  const given = inputOrder(proper);
  const starts = [given, depthFirstOrder(proper, false), depthFirstOrder(proper, true)];
  const random = seeded(20251127);
  while (starts.length < restarts) starts.push(shuffledOrder(given, random));
  let best = null;
  for (const start of starts.slice(0, Math.max(1, restarts))) {
    const found = improve(start, proper, settings);
    if (!best || found.count < best.count) best = found;
    if (best.count === 0) break;
  }
  return best.layers;
}

// --- coordinates ---

function placeLayers(layers, proper, opt) {
  const top = new Float64Array(layers.length);
  const bottom = new Float64Array(layers.length);
  const centre = new Float64Array(layers.length);
  let y = 0;
  layers.forEach((layer, l) => {
    let height = 0;
    for (const v of layer) if (v < proper.n) height = Math.max(height, proper.height[v]);
    top[l] = y;
    bottom[l] = y + height;
    centre[l] = y + height / 2;
    y += height + opt.layerGap;
  });
  return { top, bottom, centre };
}

/** Brandes and Köpf's horizontal coordinates: four alignments, balanced; overlaps pushed apart. */
function placeAcross(layers, proper, opt) {
  const { size, n, width } = proper;
  const gap = (v) => (v < n ? opt.nodeGap : opt.edgeGap);
  const separation = (u, v) => (width[u] + width[v]) / 2 + (gap(u) + gap(v)) / 2;
  const conflicts = typeOneConflicts(layers, proper);
  const results = [];
  for (const vertical of ["down", "up"]) {
    for (const horizontal of ["left", "right"]) {
      let adjusted = vertical === "down" ? layers : [...layers].reverse();
      if (horizontal === "right") adjusted = adjusted.map((layer) => [...layer].reverse());
      const neighbours = vertical === "down" ? proper.up : proper.down;
      const { root, align } = verticalAlignment(adjusted, neighbours, conflicts, size);
      const xs = compact(adjusted, root, align, separation, size);
      if (horizontal === "right") for (let v = 0; v < size; v += 1) xs[v] = -xs[v];
      results.push({ xs, left: horizontal === "left" });
    }
  }
  const extent = (xs) => {
    let min = Infinity;
    let max = -Infinity;
    for (let v = 0; v < size; v += 1) {
      min = Math.min(min, xs[v] - width[v] / 2);
      max = Math.max(max, xs[v] + width[v] / 2);
    }
    return { min, max };
  };
  const extents = results.map(({ xs }) => extent(xs));
  let narrowest = 0;
  extents.forEach((e, i) => {
    if (e.max - e.min < extents[narrowest].max - extents[narrowest].min) narrowest = i;
  });
  results.forEach(({ xs, left }, i) => {
    const shift = left ? extents[narrowest].min - extents[i].min : extents[narrowest].max - extents[i].max;
    for (let v = 0; v < size; v += 1) xs[v] += shift;
  });
  const x = new Float64Array(size);
  const four = [0, 0, 0, 0];
  for (let v = 0; v < size; v += 1) {
    for (let i = 0; i < 4; i += 1) four[i] = results[i].xs[v];
    four.sort((a, b) => a - b);
    x[v] = (four[1] + four[2]) / 2;
  }
  // The balanced median of four can bring neighbours too close: push apart, left to right.
  for (const layer of layers) {
    for (let i = 1; i < layer.length; i += 1) {
      const need = x[layer[i - 1]] + separation(layer[i - 1], layer[i]);
      if (x[layer[i]] < need) x[layer[i]] = need;
    }
  }
  let min = Infinity;
  for (let v = 0; v < size; v += 1) min = Math.min(min, x[v] - width[v] / 2);
  for (let v = 0; v < size; v += 1) x[v] -= min;
  return x;
}

/** Edges that cross an edge between two dummies (a long edge's inner segment): not aligned. */
function typeOneConflicts(layers, proper) {
  const conflicts = new Set();
  const { n, up, size } = proper;
  const pos = positionsOf(layers, size);
  for (let l = 1; l < layers.length; l += 1) {
    const previous = layers[l - 1];
    const layer = layers[l];
    let k0 = 0;
    let scan = 0;
    for (let i = 0; i < layer.length; i += 1) {
      const v = layer[i];
      const inner = v >= n && up[v][0] >= n ? up[v][0] : -1;
      const k1 = inner >= 0 ? pos[inner] : previous.length;
      if (inner >= 0 || i === layer.length - 1) {
        for (; scan <= i; scan += 1) {
          const w = layer[scan];
          for (const u of up[w]) {
            if ((pos[u] < k0 || k1 < pos[u]) && !(u >= n && w >= n)) conflicts.add(u * size + w);
          }
        }
        k0 = k1;
      }
    }
  }
  return conflicts;
}

function verticalAlignment(layers, neighbours, conflicts, size) {
  const root = new Int32Array(size);
  const align = new Int32Array(size);
  const pos = new Int32Array(size);
  for (let v = 0; v < size; v += 1) {
    root[v] = v;
    align[v] = v;
  }
  for (const layer of layers) layer.forEach((v, i) => (pos[v] = i));
  const conflicted = (a, b) => conflicts.has(a * size + b) || conflicts.has(b * size + a);
  for (const layer of layers) {
    let previous = -1;
    for (const v of layer) {
      const ws = neighbours[v].length > 1 ? [...neighbours[v]].sort((a, b) => pos[a] - pos[b]) : neighbours[v];
      if (!ws.length) continue;
      const middle = (ws.length - 1) / 2;
      for (let i = Math.floor(middle); i <= Math.ceil(middle); i += 1) {
        const w = ws[i];
        if (align[v] === v && previous < pos[w] && !conflicted(v, w)) {
          align[w] = v;
          root[v] = root[w];
          align[v] = root[v];
          previous = pos[w];
        }
      }
    }
  }
  return { root, align };
}

function compact(layers, root, align, separation, size) {
  // A graph of blocks (aligned nodes): an edge from each block to the one right of it, weighted
  // by the separation their nodes need (repeated edges are harmless: the largest one binds);
  // blocks placed leftmost first, then pulled right as far as the blocks right of them allow.
  const preds = new Array(size);
  const succs = new Array(size);
  const missing = new Int32Array(size);
  for (const layer of layers) {
    for (let i = 1; i < layer.length; i += 1) {
      const u = root[layer[i - 1]];
      const v = root[layer[i]];
      const need = separation(layer[i - 1], layer[i]);
      (succs[u] || (succs[u] = [])).push(v, need);
      (preds[v] || (preds[v] = [])).push(u, need);
      missing[v] += 1;
    }
  }
  const order = [];
  for (let v = 0; v < size; v += 1) if (root[v] === v && !missing[v]) order.push(v);
  for (let i = 0; i < order.length; i += 1) {
    const next = succs[order[i]];
    if (!next) continue;
    for (let k = 0; k < next.length; k += 2) {
      missing[next[k]] -= 1;
      if (!missing[next[k]]) order.push(next[k]);
    }
  }
  const xs = new Float64Array(size);
  for (const r of order) {
    const before = preds[r];
    let x = 0;
    if (before) for (let k = 0; k < before.length; k += 2) x = Math.max(x, xs[before[k]] + before[k + 1]);
    xs[r] = x;
  }
  for (let i = order.length - 1; i >= 0; i -= 1) {
    const r = order[i];
    const next = succs[r];
    if (!next) continue;
    let limit = Infinity;
    for (let k = 0; k < next.length; k += 2) limit = Math.min(limit, xs[next[k]] - next[k + 1]);
    xs[r] = Math.max(xs[r], limit);
  }
  for (let v = 0; v < size; v += 1) xs[v] = xs[root[v]];
  return xs;
}

// --- routes ---

function route(edges, proper, layers, x, bands, sizes, layerOf, opt) {
  const pos = positionsOf(layers, proper.size);
  // Ports: a node's edges leave (and enter) it side by side, in the order of where they go.
  const outPort = new Map();
  const inPort = new Map();
  const ports = (v, hops, into) => {
    const sorted = [...hops].sort((a, b) => pos[a] - pos[b]);
    const room = Math.max(0, sizes[v].w - 28);
    const step = sorted.length > 1 ? Math.min(opt.portStep, room / (sorted.length - 1)) : 0;
    sorted.forEach((hop, i) => into.set(v * proper.size + hop, x[v] + (i - (sorted.length - 1) / 2) * step));
  };
  for (let v = 0; v < proper.n; v += 1) {
    ports(v, proper.down[v], outPort);
    ports(v, proper.up[v], inPort);
  }
  return proper.chains.map((chain) => {
    if (!chain) return null;
    const from = chain[0];
    const to = chain[chain.length - 1];
    const points = [];
    const add = (px, py) => {
      const last = points.length - 2;
      if (last >= 0 && points[last] === px && points[last + 1] === py) return;
      points.push(px, py);
    };
    const start = outPort.get(from * proper.size + chain[1]);
    const fromLayer = layerOf[from];
    add(start, bands.centre[fromLayer] + sizes[from].h / 2);
    add(start, bands.bottom[fromLayer]);
    for (let i = 1; i + 1 < chain.length; i += 1) {
      const d = chain[i];
      const l = proper.layerOf[d];
      add(x[d], bands.top[l] - opt.arrowGap);
      add(x[d], bands.bottom[l]);
    }
    const end = inPort.get(to * proper.size + chain[chain.length - 2]);
    const toLayer = layerOf[to];
    add(end, bands.top[toLayer] - opt.arrowGap);
    add(end, bands.centre[toLayer] - sizes[to].h / 2 - opt.arrowGap);
    return points;
  });
}
