// A problem+json document's `errors` in plain words (issue 15 part 8): one line per problem,
// with its place in the tree file ("Line 14 — Skill 4 (“Docker”), prerequisite 1") or the form
// ("Estimated minutes"), and what is wrong said as a person would say it.

/** Field names as an author reads them: [the whole, one item of it] (one word: both). */
const FIELDS = {
  dependencies: ["prerequisites", "prerequisite"],
  prerequisites: ["prerequisite trees", "prerequisite tree"],
  learningObjectives: ["learning objectives", "learning objective"],
  resources: ["resources", "resource"],
  assessments: ["assessments", "assessment"],
  modules: ["modules", "module"],
  questions: ["questions", "question"],
  options: ["options", "option"],
  criteria: ["criteria", "criterion"],
  levels: ["levels", "level"],
  tags: ["tags", "tag"],
  skills: ["skills", "skill"],
  xpValue: ["XP"],
  url: ["address"],
  skillType: ["type"],
  isOptional: ["optional"],
  isMilestone: ["milestone"],
  isFeatured: ["featured"],
  isAiGenerated: ["AI-generated"],
  isPublished: ["published"],
  parent: ["parent (the skill it is grouped under)"],
  categorySlug: ["category"],
};

/** camelCase -> "camel case"; a field's words, its item's words. */
function fieldWords(name) {
  if (FIELDS[name]) return FIELDS[name];
  const words = String(name)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase();
  return [words, words.endsWith("s") ? words.slice(0, -1) : words];
}

const capital = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);
const quoted = (text) => `“${text}”`;

/**
 * Where a problem is, in words: `loc` (its JSON path, "body" first for a request's body);
 * `skills` the tree file's skills (their names are shown), `labels` a form's field labels.
 */
export function placeWords(loc, { skills = null, labels = {} } = {}) {
  const path = loc[0] === "body" ? loc.slice(1) : [...loc];
  const parts = [];
  let i = 0;
  if (path[0] === "skills" && Number.isInteger(path[1])) {
    const name = skills?.[path[1]]?.name;
    parts.push(`skill ${path[1] + 1}${typeof name === "string" && name.trim() ? ` (${quoted(name.trim())})` : ""}`);
    i = 2;
  } else if (path[0] === "tree" && path.length > 1) {
    parts.push("the tree");
    i = 1;
  }
  for (; i < path.length; i += 1) {
    const part = path[i];
    if (Number.isInteger(part)) {
      parts.push(`item ${part + 1}`);
      continue;
    }
    const [whole, one] = i === 0 && labels[part] ? [labels[part], labels[part]] : fieldWords(part);
    if (Number.isInteger(path[i + 1])) {
      parts.push(`${one} ${path[i + 1] + 1}`);
      i += 1;
    } else {
      parts.push(whole);
    }
  }
  return capital(parts.join(", "));
}

/** "a -> b -> a" with each key named by its skill ("“A” needs “B”, “B” needs “A”"). */
function cycleWords(text, names) {
  const keys = text.split(" -> ").map((key) => key.trim());
  const name = (key) => quoted(names.get(key) || key);
  const steps = [];
  for (let k = 0; k + 1 < keys.length; k += 1) steps.push(`${name(keys[k])} needs ${name(keys[k + 1])}`);
  return steps.join(", ");
}

const NUMBER = /(-?\d+(?:\.\d+)?)/;

/** What is wrong, in words, from the error's `type` and `msg` (problem+json `errors[]`). */
export function problemWords(error, { names = new Map(), file = false } = {}) {
  const msg = String(error.msg || "");
  const first = (pattern) => (msg.match(pattern) || [])[1];
  const number = first(NUMBER);
  switch (error.type) {
    case "missing":
      return "missing: it is required";
    case "extra_forbidden":
      return file ? "not a field of a tree file (check its spelling, or remove it)" : "not a field this form knows";
    case "unknown_key":
      return `no skill in this file has the key ${quoted(first(/"(.*)"/) ?? "")}`;
    case "duplicate_key": {
      const at = first(/skills\[(\d+)\]/);
      return `the key ${quoted(first(/"(.*)"/) ?? "")} is already the key of ${at === undefined ? "another skill" : `skill ${Number(at) + 1}`}: each skill needs its own`;
    }
    case "duplicate_dependency":
    case "duplicate":
      return `${quoted(first(/"(.*)"/) ?? "")} is listed twice`;
    case "cycle": {
      const chain = msg.replace(/^(parent )?cycle:\s*/, "");
      const parent = msg.startsWith("parent");
      return parent
        ? `the groups go round in a circle (${chain.split(" -> ").map((key) => quoted(names.get(key) || key)).join(" in ")}): one of these parents must go`
        : `the prerequisites go round in a circle (${cycleWords(chain, names)}): one of them must go`;
    }
    case "unknown_category":
      return `no category has the slug ${quoted(first(/"(.*)"/) ?? "")}`;
    case "unknown_tree":
      return `no tree has the slug ${quoted(first(/"(.*)"/) ?? "")}`;
    case "json_invalid":
      return `the file is not valid JSON here (${msg.replace(/^.*?valid JSON:\s*/, "").replace(/\s*at line \d+ column \d+\.?$/, "")})`;
    case "int_type":
    case "int_parsing":
    case "int_from_float":
      return "should be a whole number";
    case "float_type":
    case "float_parsing":
    case "decimal_type":
    case "decimal_parsing":
      return "should be a number";
    case "string_type":
      return "should be text (in quotes)";
    case "bool_type":
    case "bool_parsing":
      return "should be true or false";
    case "list_type":
      return "should be a list (in square brackets)";
    case "dict_type":
    case "model_type":
    case "model_attributes_type":
      return "should be an object (in curly brackets)";
    case "greater_than_equal":
      return `should be ${number} or more`;
    case "greater_than":
      return `should be more than ${number}`;
    case "less_than_equal":
      return `should be ${number} or less`;
    case "less_than":
      return `should be less than ${number}`;
    case "string_too_short":
      return number === "1" ? "should not be empty" : `should be at least ${number} characters long`;
    case "string_too_long":
      return `should be at most ${number} characters long`;
    case "too_short":
      return `should have at least ${number} ${number === "1" ? "item" : "items"}`;
    case "too_long":
      return `should have at most ${number} items`;
    case "string_pattern_mismatch":
      return "is not written as it must be (for a key or slug: lower-case letters, digits and dashes)";
    case "url_parsing":
    case "url_scheme":
    case "url_type":
      return "should be a web address (https://…)";
    case "enum":
    case "literal_error": {
      const choices = msg.replace(/^Input should be\s*/, "").replace(/'/g, "");
      return `should be one of: ${choices}`;
    }
    default:
      break;
  }
  const words = msg
    .replace(/^Value error,\s*/, "")
    .replace(/^Assertion failed,\s*/, "")
    .replace(/^Input should be/, "should be");
  return words ? words[0].toLowerCase() + words.slice(1) : "is not valid";
}

/**
 * Each path's line in JSON `text` (the line of the member's name, or of an item's first
 * character), for the paths in `wanted` (written as `skills[3].dependencies[0]`) and the
 * members round them. A path not in the text (a missing field) is not answered.
 */
export function jsonLines(text, wanted) {
  const prefixes = new Set();
  for (const path of wanted) {
    for (let end = 0; end <= path.length; end += 1) if (end === path.length || path[end] === "." || path[end] === "[") prefixes.add(path.slice(0, end));
  }
  const found = new Map();
  let i = 0;
  let line = 1;
  const space = () => {
    for (; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c === 10) line += 1;
      else if (c !== 32 && c !== 9 && c !== 13) break;
    }
  };
  const string = () => {
    // A JSON string holds no raw line break: only its end needs finding.
    let q = i + 1;
    for (;;) {
      q = text.indexOf('"', q);
      if (q < 0) throw new Error("unterminated string");
      let backslashes = 0;
      for (let b = q - 1; text[b] === "\\"; b -= 1) backslashes += 1;
      if (backslashes % 2 === 0) break;
      q += 1;
    }
    const raw = text.slice(i, q + 1);
    i = q + 1;
    return raw;
  };
  const value = (path) => {
    space();
    const c = text[i];
    const inside = prefixes.has(path);
    if (c === "{" || c === "[") {
      const object = c === "{";
      i += 1;
      space();
      if (text[i] === (object ? "}" : "]")) {
        i += 1;
        return;
      }
      for (let index = 0; ; index += 1) {
        space();
        let child;
        if (object) {
          const at = line;
          const name = JSON.parse(string());
          child = path ? `${path}.${name}` : name;
          if (inside && !found.has(child)) found.set(child, at);
          space();
          i += 1; // the colon
        } else {
          child = `${path}[${index}]`;
          space();
          if (inside && !found.has(child)) found.set(child, line);
        }
        if (prefixes.has(child)) value(child);
        else skip();
        space();
        if (text[i] === ",") {
          i += 1;
          continue;
        }
        i += 1; // the closing bracket
        return;
      }
    }
    if (c === '"') string();
    else skip();
  };
  // Past a value no problem is in, counting its lines.
  const skip = () => {
    space();
    const c = text[i];
    if (c === '"') {
      string();
      return;
    }
    if (c !== "{" && c !== "[") {
      while (i < text.length && !",]}\n \t\r".includes(text[i])) i += 1;
      return;
    }
    let depth = 0;
    for (; i < text.length; i += 1) {
      const d = text[i];
      if (d === '"') {
        string();
        i -= 1;
      } else if (d === "\n") line += 1;
      else if (d === "{" || d === "[") depth += 1;
      else if (d === "}" || d === "]") {
        depth -= 1;
        if (depth === 0) {
          i += 1;
          return;
        }
      }
    }
  };
  try {
    value("");
  } catch {
    // Not JSON after all: the lines found so far.
  }
  return found;
}

/** A location as the API's messages write it: ["skills", 3, "key"] -> `skills[3].key`. */
function pathText(loc) {
  let text = "";
  for (const part of loc) text += Number.isInteger(part) ? `[${part}]` : text ? `.${part}` : String(part);
  return text;
}

/**
 * The problems of `problem` (a problem+json document) as lines of plain words, each "place:
 * what is wrong". `source` is the tree file's text when the problem answers an import (its
 * places then name skills and lines); `labels` maps a form's field names to their labels.
 */
export function problemLines(problem, { source = null, labels = {} } = {}) {
  const errors = Array.isArray(problem?.errors) ? problem.errors : [];
  let file = null;
  if (source !== null) {
    try {
      file = JSON.parse(source);
    } catch {
      file = null;
    }
  }
  const skills = Array.isArray(file?.skills) ? file.skills : null;
  // Each key's skill name (the first skill with the key, as the API counts it).
  const names = new Map();
  for (const skill of skills || []) {
    if (skill && typeof skill.key === "string" && !names.has(skill.key)) names.set(skill.key, typeof skill.name === "string" ? skill.name : skill.key);
  }
  const locs = errors.map((error) => {
    const loc = Array.isArray(error.loc) ? error.loc : [];
    return loc[0] === "body" ? loc.slice(1) : loc;
  });
  const lines = file ? jsonLines(source, locs.map(pathText)) : new Map();
  return errors.map((error, n) => {
    const loc = locs[n];
    let where;
    if (error.type === "json_invalid") {
      const at = String(error.msg || "").match(/at line (\d+) column (\d+)/);
      where = at ? `Line ${at[1]}, column ${at[2]}` : "";
    } else {
      where = placeWords(loc, { skills, labels });
      if (source !== null) {
        // The line of the place, else of the nearest place round it (a missing field: its object).
        let line;
        for (let end = loc.length; end >= 0 && line === undefined; end -= 1) line = lines.get(pathText(loc.slice(0, end)));
        if (line !== undefined && loc.length) where = `Line ${line} — ${where || "the file"}`;
      }
    }
    const words = problemWords(error, { names, file: source !== null });
    return where ? `${where}: ${words}.` : `${capital(words)}.`;
  });
}
