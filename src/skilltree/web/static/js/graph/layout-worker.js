// Lays out a large tree off the page's thread (graph/layout.js sends the work).

import { layered, packed } from "./layered.js";

self.onmessage = ({ data }) => {
  const result = packed(layered(data.sizes, data.edges));
  self.postMessage({ id: data.id, result }, [result.x.buffer, result.y.buffer, result.points.buffer, result.start.buffer]);
};
