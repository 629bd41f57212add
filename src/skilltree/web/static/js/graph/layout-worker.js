// Lays out a large tree off the page's thread (graph/layout.js sends the work).

import { layered } from "./layered.js";

self.onmessage = ({ data }) => {
  self.postMessage({ id: data.id, result: layered(data.sizes, data.edges) });
};
