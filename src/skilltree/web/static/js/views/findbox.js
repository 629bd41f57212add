// Find a skill in the tree on screen: an ARIA combobox (a text box with a list of suggestions)
// that suggests the tree's skills as one types (names starting with the words typed first, then
// names with a word starting so, then names holding them anywhere; accents and case ignored).
// Arrow keys move through the suggestions, Enter takes one, Escape closes the list (or clears).

import { h } from "../dom.js";

const MOST = 8;
let made = 0;

/** Text as compared: no accents, lower case, spaces collapsed. */
export function folded(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
}

/**
 * The best `MOST` matches of `query` among `entries` ({id, name, shortName, key}, key: the name
 * folded), best first: a name that starts with the query, then one with a word that does, then
 * one that holds it; ties in the entries' order.
 */
export function matches(entries, query) {
  const wanted = folded(query);
  if (!wanted) return [];
  const ranked = [];
  for (const entry of entries) {
    let rank = -1;
    const at = entry.key.indexOf(wanted);
    if (at === 0) rank = 0;
    else if (at > 0 && entry.key.includes(` ${wanted}`)) rank = 1;
    else if (at > 0) rank = 2;
    else if (entry.shortKey && entry.shortKey.startsWith(wanted)) rank = 1;
    if (rank >= 0) ranked.push([rank, ranked.length, entry]);
  }
  ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return ranked.slice(0, MOST).map(([, , entry]) => entry);
}

/**
 * A find box over `skills()` (the tree's skills, asked for at each keystroke); `onChoose(id)` is
 * called with the skill taken. Answers its element.
 */
export function findBox(skills, onChoose, describe = () => "") {
  made += 1;
  const listId = `find-list-${made}`;
  const inputId = `find-input-${made}`;
  const input = h("input", {
    id: inputId,
    type: "text",
    role: "combobox",
    autocomplete: "off",
    spellcheck: "false",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    placeholder: "Type a skill's name",
  });
  const list = h("ul", { id: listId, class: "find-list", role: "listbox", "aria-label": "Skills found", hidden: true });
  const status = h("p", { class: "find-status", role: "status", "aria-live": "polite" });
  let entries = [];
  let shown = [];
  let active = -1;
  let indexed = null;

  function index() {
    const current = skills();
    if (indexed !== current) {
      indexed = current;
      entries = current.map((skill) => ({ id: skill.id, name: skill.name, key: folded(skill.name), shortKey: skill.shortName ? folded(skill.shortName) : "" }));
    }
    return entries;
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function mark(i) {
    active = i;
    list.querySelectorAll("[role=option]").forEach((option, j) => option.setAttribute("aria-selected", String(j === i)));
    if (i >= 0) {
      const option = list.children[i];
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function suggest() {
    shown = matches(index(), input.value);
    list.replaceChildren(
      ...shown.map((entry, i) =>
        h(
          "li",
          { id: `${listId}-${i}`, role: "option", "aria-selected": "false", "data-id": entry.id, onPointerdown: (event) => event.preventDefault(), onClick: () => choose(i) },
          entry.name,
          describe(entry.id) ? h("span", { class: "muted" }, ` — ${describe(entry.id)}`) : null,
        ),
      ),
    );
    const open = shown.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (!input.value.trim()) status.textContent = "";
    else status.textContent = shown.length ? `${shown.length === MOST ? `${MOST} or more` : shown.length} found: arrow keys to choose, Enter to go` : "No skill of this tree matches.";
  }

  function choose(i) {
    const entry = shown[i];
    if (!entry) return;
    input.value = entry.name;
    close();
    status.textContent = `Showing “${entry.name}”.`;
    onChoose(entry.id);
  }

  input.addEventListener("input", suggest);
  input.addEventListener("focus", () => input.value && suggest());
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) suggest();
      if (!shown.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      mark(active < 0 ? (step > 0 ? 0 : shown.length - 1) : (active + step + shown.length) % shown.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (list.hidden && input.value.trim()) suggest();
      choose(active >= 0 ? active : 0);
    } else if (event.key === "Escape") {
      // Escape stays here (the map would take it as "close the details").
      event.stopPropagation();
      if (!list.hidden) close();
      else input.value = "";
    }
  });

  return h("div", { class: "find", role: "search", "aria-label": "Find a skill in this tree" }, h("label", { for: inputId }, "Find a skill"), input, list, status);
}
