// Text measured with the page's own font (a canvas's measureText, the font the SVG draws with),
// never guessed from a count of characters: a node is as wide as its name needs (within bounds),
// a long name takes two lines, and only a name too long for two lines is shortened.

/** Font sizes in CSS px (app.css draws with the same: .node .name, .node .sub, .map-label). */
export const NAME_PX = 13;
export const SUB_PX = 12;
export const LABEL_PX = 12;
/** Line heights (px) of a node's name and of a map label. */
export const NAME_LINE = 16;
export const LABEL_LINE = 15;
/** Room in a node's box left of its text (the state icon) and right of it. */
export const TEXT_LEFT = 34;
export const TEXT_RIGHT = 10;

let context = null;
let family = null;
let current = null;
const widths = new Map();

function measurer() {
  if (context === null) {
    const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(1, 1) : typeof document === "object" ? document.createElement("canvas") : null;
    context = canvas ? canvas.getContext("2d") : false;
    family = typeof document === "object" ? getComputedStyle(document.documentElement).fontFamily : "sans-serif";
  }
  return context;
}

/** The width in px of `text` drawn in `weight` at `px`, in the page's font. */
export function textWidth(text, px, weight = 400) {
  const key = `${weight} ${px} ${text}`;
  let width = widths.get(key);
  if (width === undefined) {
    const ctx = measurer();
    if (ctx) {
      // Setting a canvas's font parses it: only when it changes.
      const font = `${weight} ${px}px ${family}`;
      if (font !== current) {
        ctx.font = font;
        current = font;
      }
      width = ctx.measureText(text).width;
    } else {
      // No canvas (outside a browser page): a generous estimate.
      width = text.length * px * (weight >= 600 ? 0.66 : 0.6);
    }
    if (widths.size > 50000) widths.clear();
    widths.set(key, width);
  }
  return width;
}

/** `text` cut (at a character) to fit `room` px, with an ellipsis. */
export function cut(text, room, px, weight) {
  if (textWidth(text, px, weight) <= room) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (textWidth(`${text.slice(0, mid).trimEnd()}…`, px, weight) <= room) low = mid;
    else high = mid - 1;
  }
  return `${text.slice(0, low).trimEnd()}…`;
}

/**
 * `text` broken at spaces into lines no wider than `room` px, at most `most` lines (the last
 * cut with an ellipsis when the rest does not fit). Answers {lines, width, whole} (whole: nothing
 * was cut); with `wholeOnly`, a text that does not fit whole is not cut ({whole: false} at once).
 */
export function wrap(text, room, px, weight, most, wholeOnly = false) {
  const words = text.split(/\s+/).filter(Boolean);
  const lines = [];
  let line = "";
  let whole = true;
  for (let i = 0; i < words.length; i += 1) {
    const next = line ? `${line} ${words[i]}` : words[i];
    if (!line || textWidth(next, px, weight) <= room) {
      line = next;
      continue;
    }
    if (lines.length === most - 1) {
      line = `${line} ${words.slice(i).join(" ")}`;
      break;
    }
    lines.push(line);
    line = words[i];
  }
  if (line) lines.push(line);
  if (wholeOnly && lines.some((each) => textWidth(each, px, weight) > room)) return { lines: [], width: Infinity, whole: false };
  const shown = lines.map((each) => {
    const fitted = cut(each, room, px, weight);
    if (fitted !== each) whole = false;
    return fitted;
  });
  return { lines: shown, width: Math.max(0, ...shown.map((each) => textWidth(each, px, weight))), whole };
}

/** Two lines of about equal width for `text` (the break that makes the wider line narrowest). */
function balanced(text, px, weight) {
  const words = text.split(/\s+/).filter(Boolean);
  let best = null;
  for (let i = 1; i < words.length; i += 1) {
    const lines = [words.slice(0, i).join(" "), words.slice(i).join(" ")];
    const width = Math.max(textWidth(lines[0], px, weight), textWidth(lines[1], px, weight));
    if (!best || width < best.width) best = { lines, width };
  }
  return best;
}

/**
 * What a node shows for `skill` in a box at least `minWidth` and at most `maxWidth` wide: its
 * name on one line, else on two, else its short name, else its name cut over two lines (`subs`:
 * the line under the name in every state, which the box also holds).
 * Answers {lines, shown (the text shown, for the accessible name), width (the box's)}.
 */
export function nodeFace(skill, minWidth, maxWidth, subs) {
  const pad = TEXT_LEFT + TEXT_RIGHT;
  const room = maxWidth - pad;
  const subWidth = Math.max(0, ...subs.map((sub) => textWidth(sub, SUB_PX)));
  const fit = (textW) => Math.max(minWidth, Math.min(maxWidth, Math.ceil(Math.max(textW, subWidth) + pad)));
  const name = skill.name;
  const one = textWidth(name, NAME_PX, 600);
  if (one <= room) return { lines: [name], shown: name, width: fit(one) };
  const two = balanced(name, NAME_PX, 600);
  if (two && two.width <= room) return { lines: two.lines, shown: name, width: fit(two.width) };
  const short = skill.shortName;
  if (short && short !== name && textWidth(short, NAME_PX, 600) <= room) return { lines: [short], shown: short, width: fit(textWidth(short, NAME_PX, 600)) };
  const wrapped = wrap(name, room, NAME_PX, 600, 2);
  return { lines: wrapped.lines, shown: wrapped.lines.join(" "), width: fit(wrapped.width) };
}
