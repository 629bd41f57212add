// One layout by one engine, off the benchmark page's thread (benchmarks/map_layout.js), so that
// a slow engine can be stopped: ours (graph/layered.js), dagre or ELK's layered algorithm, each
// on the same nodes (sizes, in the same order) and edges. Answers the time the engine took and
// each edge's drawn line.

import { layered } from "/static/js/graph/layered.js";
import dagre from "/vendor/dagre/dagre.esm.js";
import "/vendor/elkjs/elk.bundled.js";

const ENGINES = {
  ours(sizes, edges) {
    const result = layered(sizes, edges);
    return { routes: result.routes, curved: true };
  },
  dagre(sizes, edges) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "TB" });
    g.setDefaultEdgeLabel(() => ({}));
    sizes.forEach(({ w, h }, i) => g.setNode(`n${i}`, { width: w, height: h }));
    for (const [from, to] of edges) g.setEdge(`n${from}`, `n${to}`);
    dagre.layout(g);
    return { routes: edges.map(([from, to]) => g.edge(`n${from}`, `n${to}`).points.flatMap((p) => [p.x, p.y])), curved: false };
  },
  async elk(sizes, edges) {
    const graph = {
      id: "root",
      layoutOptions: { "elk.algorithm": "layered", "elk.direction": "DOWN" },
      children: sizes.map(({ w, h }, i) => ({ id: `n${i}`, width: w, height: h })),
      edges: edges.map(([from, to], i) => ({ id: `e${i}`, sources: [`n${from}`], targets: [`n${to}`] })),
    };
    const laid = await new self.ELK().layout(graph);
    const byId = new Map(laid.edges.map((edge) => [edge.id, edge]));
    return {
      routes: edges.map((_, i) => {
        const section = byId.get(`e${i}`).sections[0];
        return [section.startPoint, ...(section.bendPoints || []), section.endPoint].flatMap((p) => [p.x, p.y]);
      }),
      curved: false,
    };
  },
};

self.onmessage = async ({ data }) => {
  const started = performance.now();
  const drawn = await ENGINES[data.engine](data.sizes, data.edges);
  self.postMessage({ ms: performance.now() - started, ...drawn });
};
