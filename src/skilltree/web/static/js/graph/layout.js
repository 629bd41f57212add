// Where each node is drawn: the skills' own positions (positionX/Y are node centres), spread
// apart when nodes would overlap; laid out by topological layer when positions are missing
// (several skills on one spot, e.g. a tree written without positions).

const WIDTH = 148;
const HEIGHT = 52;

/** A node's box: node_size (1..3) makes it larger. */
export function nodeBox(skill) {
  const size = Math.min(3, Math.max(1, skill.nodeSize || 1));
  return { w: WIDTH + (size - 1) * 26, h: HEIGHT + (size - 1) * 10 };
}

function layered(doc, skillsById) {
  const spacing = Math.max(doc.layoutConfig?.nodeSpacing || 200, WIDTH + 70);
  const level = Math.max(doc.layoutConfig?.levelHeight || 150, HEIGHT + 70);
  const horizontal = doc.layoutConfig?.direction === "horizontal";
  const positions = new Map();
  const placed = new Set();
  const layers = (doc.layers || []).map((layer) => layer.filter((id) => skillsById.has(id)));
  const rest = [...skillsById.keys()].filter((id) => !layers.some((layer) => layer.includes(id)));
  if (rest.length) layers.push(rest);
  layers.forEach((layer, depth) => {
    layer.forEach((id, index) => {
      const across = (index - (layer.length - 1) / 2) * (horizontal ? level : spacing);
      const along = depth * (horizontal ? spacing : level);
      positions.set(id, horizontal ? { x: along, y: across } : { x: across, y: along });
      placed.add(id);
    });
  });
  return positions;
}

function positionsMissing(skills) {
  const seen = new Set();
  for (const skill of skills) {
    const key = `${Math.round(skill.positionX)},${Math.round(skill.positionY)}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

/** How much to stretch each axis so that no two nodes in a row (or column) overlap. */
function spread(skills) {
  const rows = new Map();
  for (const skill of skills) {
    const key = Math.round(skill.positionY);
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(skill.positionX);
  }
  let minGapX = Infinity;
  for (const xs of rows.values()) {
    xs.sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i += 1) minGapX = Math.min(minGapX, xs[i] - xs[i - 1]);
  }
  const ys = [...rows.keys()].sort((a, b) => a - b);
  let minGapY = Infinity;
  for (let i = 1; i < ys.length; i += 1) minGapY = Math.min(minGapY, ys[i] - ys[i - 1]);
  const needX = WIDTH + 2 * 26 + 20;
  const needY = HEIGHT + 2 * 10 + 36;
  return {
    x: Number.isFinite(minGapX) && minGapX > 0 ? Math.max(1, needX / minGapX) : 1,
    y: Number.isFinite(minGapY) && minGapY > 0 ? Math.max(1, needY / minGapY) : 1,
  };
}

/** Map skill id -> {x, y, w, h} (centre and size), and whether it was laid out automatically. */
export function computeLayout(doc) {
  const skillsById = new Map(doc.skills.map((skill) => [skill.id, skill]));
  const auto = positionsMissing(doc.skills);
  const boxes = new Map();
  let scale = { x: 1, y: 1 };
  if (auto) {
    for (const [id, point] of layered(doc, skillsById)) boxes.set(id, { ...point, ...nodeBox(skillsById.get(id)) });
  } else {
    scale = spread(doc.skills);
    for (const skill of doc.skills) boxes.set(skill.id, { x: skill.positionX * scale.x, y: skill.positionY * scale.y, ...nodeBox(skill) });
  }
  // `scale` turns drawn coordinates back into stored positions (after a drag).
  return { boxes, auto, scale, horizontal: doc.layoutConfig?.direction === "horizontal" };
}
