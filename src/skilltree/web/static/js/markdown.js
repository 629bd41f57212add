// A small Markdown renderer for content modules' articles (docs/web.md, "Articles"). It builds
// DOM nodes with createElement and textContent only: raw HTML in the text stays text, and a link
// becomes a link only for http(s) and mailto addresses (javascript:, data:, relative: plain text).
// Images are shown as links (the page loads no image from elsewhere).
//
// Blocks: headings (#), paragraphs, fenced code (```), block quotes (>), lists (-, *, +, 1.),
// rules (---). Inline: `code`, **strong**, *emphasis*, [links](url), <https://autolinks>, \escapes.

import { h } from "./dom.js";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
const MAX_DEPTH = 8;

/** The address `url` if it may be a link (absolute http(s) or mailto), else null. */
export function safeHref(url) {
  let parsed;
  try {
    parsed = new URL(String(url).trim());
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : null;
}

function link(url, children) {
  const target = safeHref(url);
  if (!target) return h("span", { class: "md-unsafe-link" }, children);
  return h("a", { href: target, target: "_blank", rel: "noopener noreferrer" }, children);
}

/** The inline nodes of `text`. */
export function renderInline(text, depth = 0) {
  const out = [];
  let plain = "";
  const flush = () => {
    if (plain) out.push(plain);
    plain = "";
  };
  // A delimiter with no closer after one place has none after any later place either.
  const noCloser = new Set();
  const closer = (marker, from) => {
    if (noCloser.has(marker)) return -1;
    const at = text.indexOf(marker, from);
    if (at < 0) noCloser.add(marker);
    return at;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c === "`") {
      let run = 1;
      while (text[i + run] === "`") run += 1;
      const fence = "`".repeat(run);
      const end = closer(fence, i + run);
      if (end > 0) {
        flush();
        out.push(h("code", {}, text.slice(i + run, end).trim()));
        i = end + run;
        continue;
      }
      plain += fence;
      i += run;
      continue;
    }
    if (c === "<") {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(text.slice(i, i + 2100));
      if (auto) {
        flush();
        out.push(link(auto[1], auto[1]));
        i += auto[0].length;
        continue;
      }
    }
    if ((c === "[" || (c === "!" && text[i + 1] === "[")) && depth < MAX_DEPTH) {
      const open = c === "!" ? i + 1 : i;
      const close = closer("](", open + 1);
      if (close > 0) {
        const end = text.indexOf(")", close + 2);
        if (end > 0) {
          const label = text.slice(open + 1, close);
          const target = text.slice(close + 2, end).trim().split(/\s+/)[0] || "";
          flush();
          if (c === "!") out.push(link(target, `Image: ${label || target}`));
          else out.push(link(target, renderInline(label, depth + 1)));
          i = end + 1;
          continue;
        }
      }
    }
    if ((c === "*" || c === "_") && depth < MAX_DEPTH) {
      const strong = text[i + 1] === c;
      const marker = strong ? c + c : c;
      const before = i > 0 ? text[i - 1] : " ";
      const after = text[i + marker.length];
      // `_` inside a word (snake_case) is no emphasis; a marker before a space opens nothing.
      const opens = after !== undefined && !/\s/.test(after) && !(c === "_" && /[\p{L}\p{N}]/u.test(before));
      if (opens) {
        const end = closer(marker, i + marker.length + 1);
        if (end > 0 && !/\s/.test(text[end - 1])) {
          flush();
          out.push(h(strong ? "strong" : "em", {}, renderInline(text.slice(i + marker.length, end), depth + 1)));
          i = end + marker.length;
          continue;
        }
      }
      plain += marker;
      i += marker.length;
      continue;
    }
    plain += c;
    i += 1;
  }
  flush();
  return out;
}

const FENCE = /^\s{0,3}(```+|~~~+)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?/;
const BULLET = /^\s{0,3}[-*+]\s+/;
const NUMBERED = /^\s{0,3}\d{1,9}[.)]\s+/;

/**
 * `text` as a fragment of block nodes. `headingBase`: the element level of a `#` heading (a
 * heading is never more than one level below the one before it, nor above h6).
 */
export function renderMarkdown(text, { headingBase = 4 } = {}) {
  const fragment = document.createDocumentFragment();
  const state = { lastLevel: headingBase - 1 };
  for (const node of blocks(String(text || "").replace(/\r\n?/g, "\n").split("\n"), headingBase, state, 0)) fragment.append(node);
  return fragment;
}

function blocks(lines, headingBase, state, depth) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i += 1;
      out.push(h("pre", {}, h("code", {}, body.join("\n"))));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const wanted = headingBase + heading[1].length - 1;
      const level = Math.min(6, Math.max(headingBase, Math.min(wanted, state.lastLevel + 1)));
      state.lastLevel = level;
      out.push(h(`h${level}`, {}, renderInline(heading[2])));
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      out.push(h("hr", {}));
      i += 1;
      continue;
    }
    if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) inner.push(lines[i++].replace(QUOTE, ""));
      out.push(h("blockquote", {}, blocks(inner, headingBase, state, depth + 1)));
      continue;
    }
    const listKind = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : null;
    if (listKind) {
      const items = [];
      while (i < lines.length && listKind.test(lines[i])) {
        let item = lines[i++].replace(listKind, "");
        // Lines indented under an item continue it.
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !listKind.test(lines[i])) item += ` ${lines[i++].trim()}`;
        items.push(h("li", {}, renderInline(item)));
      }
      out.push(h(listKind === BULLET ? "ul" : "ol", {}, items));
      continue;
    }
    const paragraph = [];
    while (i < lines.length && lines[i].trim() && !FENCE.test(lines[i]) && !HEADING.test(lines[i]) && !QUOTE.test(lines[i]) && !BULLET.test(lines[i]) && !NUMBERED.test(lines[i]) && !RULE.test(lines[i])) {
      paragraph.push(lines[i++].trim());
    }
    out.push(h("p", {}, renderInline(paragraph.join("\n"))));
  }
  return out;
}
