// The catalog: trees to learn, with search and filters (category, difficulty, tag).

import * as api from "../api.js";
import { h, humanise, replace } from "../dom.js";
import { showError } from "../notify.js";
import { href } from "../router.js";
import { cardProgress, continueLearning, progressBySlug } from "./continue.js";

const DIFFICULTIES = ["BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT"];

/** Text split into [{text, match}] segments where it contains `query` (any case). */
export function segments(text, query) {
  const value = String(text || "");
  const needle = String(query || "").trim().toLowerCase();
  if (!needle) return [{ text: value, match: false }];
  const parts = [];
  const lower = value.toLowerCase();
  let at = 0;
  for (let found = lower.indexOf(needle); found !== -1; found = lower.indexOf(needle, at)) {
    if (found > at) parts.push({ text: value.slice(at, found), match: false });
    parts.push({ text: value.slice(found, found + needle.length), match: true });
    at = found + needle.length;
  }
  if (at < value.length) parts.push({ text: value.slice(at), match: false });
  return parts;
}

/** Segments as text with <mark> around the matches (text nodes only: no markup from data). */
export function highlighted(parts) {
  return (parts || []).map((part) => (part.match ? h("mark", {}, part.text) : part.text));
}

function treeCard(tree, query, mine) {
  const tags = (tree.tags || []).map((tag) => h("li", {}, h("a", { href: href({ tag }), class: "tag" }, `#${tag}`)));
  return h(
    "li",
    { class: "card tree-card" },
    h("h2", {}, h("a", { href: href("trees", tree.slug) }, highlighted(segments(tree.name, query)))),
    h(
      "p",
      { class: "meta" },
      [tree.category ? tree.category.name : null, humanise(tree.difficulty), tree.skillCount !== undefined ? `${tree.skillCount} skills` : null, tree.estimatedHours ? `about ${tree.estimatedHours} h` : null]
        .filter(Boolean)
        .join(" · "),
      tree.isFeatured ? h("span", { class: "badge" }, "Featured") : null,
      tree.isPublished === false ? h("span", { class: "badge badge-draft" }, "Draft") : null,
    ),
    h("p", {}, highlighted(segments(tree.shortDescription || "", query))),
    cardProgress(mine?.get(tree.slug)),
    tags.length ? h("ul", { class: "tags", "aria-label": "Tags" }, tags) : null,
  );
}

function matches(tree, needle) {
  const text = [tree.name, tree.shortDescription, tree.category && tree.category.name, ...(tree.tags || [])].join(" ").toLowerCase();
  return needle.split(/\s+/).every((word) => text.includes(word));
}

function hitCard(hit) {
  const target = hit.type === "tree" ? href("trees", hit.treeSlug) : href("trees", hit.treeSlug, { skill: hit.id });
  return h(
    "li",
    { class: "card tree-card hit" },
    h("h2", {}, h("a", { href: target }, hit.name)),
    h("p", { class: "meta" }, [hit.type === "tree" ? "Tree" : `Skill in ${hit.treeName}`, hit.difficulty ? humanise(hit.difficulty) : null].filter(Boolean).join(" · ")),
    h("p", { class: "snippet" }, highlighted(hit.snippet)),
    hit.tags?.length ? h("ul", { class: "tags", "aria-label": "Tags" }, hit.tags.map((tag) => h("li", {}, h("a", { href: href({ tag }), class: "tag" }, `#${tag}`)))) : null,
  );
}

async function findTrees(filters, mine) {
  // Search (when the server has it) ranks skills and trees and marks the words it matched;
  // otherwise the catalog's own filters, with the words matched here in up to 100 trees.
  if (filters.q) {
    try {
      const found = await api.get("/search", { ...filters, pageSize: 50 });
      return { cards: found.items.map(hitCard), total: found.total, noun: ["match", "matches"] };
    } catch (error) {
      if (!api.isMissingRoute(error)) throw error;
    }
  }
  const page = await api.get("/trees", { category: filters.category, difficulty: filters.difficulty, tag: filters.tag, pageSize: 100 });
  const needle = (filters.q || "").trim().toLowerCase();
  const items = needle ? page.items.filter((tree) => matches(tree, needle)) : page.items;
  return { cards: items.map((tree) => treeCard(tree, filters.q, mine)), total: needle ? items.length : page.total, noun: ["tree", "trees"] };
}

export async function renderCatalog(main, query) {
  const filters = {
    q: query.get("q") || "",
    category: query.get("category") || "",
    difficulty: query.get("difficulty") || "",
    tag: query.get("tag") || "",
  };
  let categories = [];
  try {
    categories = await api.get("/categories");
  } catch (error) {
    showError(error, "Loading the categories");
  }
  const q = h("input", { type: "search", name: "q", value: filters.q, placeholder: "Search trees", list: "search-suggestions", autocomplete: "off" });
  const suggestions = h("datalist", { id: "search-suggestions" });
  const category = h(
    "select",
    { name: "category" },
    h("option", { value: "" }, "Any category"),
    categories.map((c) => h("option", { value: c.slug, selected: c.slug === filters.category }, c.name)),
  );
  const difficulty = h(
    "select",
    { name: "difficulty" },
    h("option", { value: "" }, "Any difficulty"),
    DIFFICULTIES.map((d) => h("option", { value: d, selected: d === filters.difficulty }, humanise(d))),
  );
  const tag = h("input", { name: "tag", value: filters.tag, placeholder: "e.g. python" });
  const form = h(
    "form",
    { class: "filters", role: "search" },
    h("label", { class: "field grow" }, h("span", {}, "Search"), q, suggestions),
    h("label", { class: "field" }, h("span", {}, "Category"), category),
    h("label", { class: "field" }, h("span", {}, "Difficulty"), difficulty),
    h("label", { class: "field" }, h("span", {}, "Tag"), tag),
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = href({ q: q.value.trim(), category: category.value, difficulty: difficulty.value, tag: tag.value.trim() });
  });
  let suggestTimer = null;
  q.addEventListener("input", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(async () => {
      if (q.value.trim().length < 2) return;
      try {
        const answer = await api.get("/search/suggest", { q: q.value.trim() });
        replace(suggestions, [...new Set(answer.suggestions.map((item) => item.text))].map((text) => h("option", { value: text })));
      } catch (error) {
        if (!api.isMissingRoute(error)) showError(error, "Suggestions");
      }
    }, 200);
  });

  const results = h("section", { "aria-live": "polite", "aria-label": "Trees" }, h("p", { class: "loading" }, "Loading trees…"));
  const active = Object.values(filters).some(Boolean);
  const resume = h("div", { class: "continue-slot" });
  replace(main, h("h1", {}, "Skill trees"), resume, form, results);
  // The learner's progress: on each card, and (without filters) where to continue.
  const mineLoad = progressBySlug().catch((error) => {
    showError(error, "Loading your progress");
    return { bySlug: new Map(), trees: [] };
  });
  const resumeLoad = mineLoad
    .then(async (mine) => replace(resume, !active && mine.trees.length ? await continueLearning(mine.trees) : null))
    .catch((error) => showError(error, "Finding what to continue"));
  const mine = await mineLoad;
  try {
    const found = await findTrees(filters, mine.bySlug);
    replace(
      results,
      h("p", { class: "count" }, `${found.total} ${found.noun[found.total === 1 ? 0 : 1]}`, active ? h("a", { href: href(), class: "clear-filters" }, "Clear filters") : null),
      found.cards.length ? h("ul", { class: "tree-list" }, found.cards) : h("p", {}, "Nothing matches. Try other words or fewer filters."),
    );
  } catch (error) {
    replace(results, h("p", { class: "error" }, error.message));
    showError(error, "Loading the catalog");
  }
  await resumeLoad;
}
