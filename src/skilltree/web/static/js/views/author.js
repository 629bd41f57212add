// The author's desk: their trees (drafts too), a new tree, and importing a tree file.

import * as api from "../api.js";
import { h, humanise, replace } from "../dom.js";
import { attempt, showProblems, toast } from "../notify.js";
import { go, href } from "../router.js";
import { session } from "../session.js";

const DIFFICULTIES = ["BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT"];

function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
}

function slugify(text) {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 100);
}

function createForm(categories) {
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const slug = h("input", { name: "slug", required: true, maxlength: 100, pattern: "[a-z0-9]+(-[a-z0-9]+)*" });
  let slugTouched = false;
  name.addEventListener("input", () => {
    if (!slugTouched) slug.value = slugify(name.value);
  });
  slug.addEventListener("input", () => {
    slugTouched = true;
  });
  const category = h("select", { name: "category" }, categories.map((c) => h("option", { value: c.slug }, c.name)));
  const difficulty = h("select", { name: "difficulty" }, DIFFICULTIES.map((d) => h("option", { value: d }, humanise(d))));
  const description = h("textarea", { name: "description", rows: 3 });
  const error = h("div", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "card", id: "create-tree", novalidate: true },
    h("h2", {}, "Create a tree"),
    field("Name", name),
    field("Slug", slug, "its address: lower-case letters, digits and dashes"),
    h("div", { class: "row" }, field("Category", category), field("Difficulty", difficulty)),
    field("Description", description),
    error,
    h("button", { type: "submit", class: "primary" }, "Create draft"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const tree = await api.post("/trees", {
        name: name.value.trim(),
        slug: slug.value.trim(),
        categorySlug: category.value,
        difficulty: difficulty.value,
        description: description.value.trim() || null,
      });
      toast(`Created “${tree.name}”`, ["It is a draft until you publish it. Add skills in edit mode."]);
      go("trees", tree.slug);
    } catch (failure) {
      showProblems(error, failure, { heading: "The tree was not created" });
    }
  });
  return form;
}

function importForm(onDone) {
  const file = h("input", { type: "file", name: "file", accept: ".json,application/json", required: true });
  const publish = h("input", { type: "checkbox", name: "publish" });
  const error = h("div", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "card", id: "import-tree", novalidate: true },
    h("h2", {}, "Import a tree file"),
    h("p", { class: "muted" }, "A tree file (format skilltree.tree) creates a tree, or updates the tree with its slug in place."),
    field("Tree file", file),
    h("label", { class: "check" }, publish, " Publish it too"),
    error,
    h("button", { type: "submit" }, "Import"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!file.files.length) {
      error.textContent = "Choose a tree file first.";
      return;
    }
    let text = null;
    try {
      text = await file.files[0].text();
      const summary = await api.request("POST", "/trees/import", { raw: text, query: { publish: publish.checked ? "true" : "" } });
      const slug = summary.slug || summary.tree?.slug;
      toast(summary.treeCreated ? "Tree imported" : "Tree updated", [slug ? `Slug: ${slug}` : ""].filter(Boolean));
      await onDone(slug);
    } catch (failure) {
      // Every problem on a line of its own, placed by line, skill and field of the file.
      showProblems(error, failure, { heading: `${file.files[0].name} was not imported`, source: text });
    }
  });
  return form;
}

export async function renderAuthor(main) {
  if (!session.user) {
    replace(main, h("h1", {}, "Author"), h("p", {}, h("a", { href: href("signin", { next: href("author") }) }, "Sign in"), " as an author to write trees."));
    return;
  }
  if (!session.canAuthor) {
    replace(main, h("h1", {}, "Author"), h("p", {}, "Writing trees needs the author role. An administrator can give it with ", h("code", {}, "skilltree users set-role EMAIL AUTHOR"), "."));
    return;
  }
  const [categories, mine] = await Promise.all([api.get("/categories"), api.get("/trees", { mine: "true", pageSize: 100 })]);
  const listBox = h("section", { "aria-label": "Your trees" });
  const showList = (page) =>
    replace(
      listBox,
      h("h2", {}, `Your trees (${page.total})`),
      page.items.length
        ? h(
            "ul",
            { class: "tree-list" },
            page.items.map((tree) =>
              h(
                "li",
                { class: "card tree-card" },
                h("h3", {}, h("a", { href: href("trees", tree.slug) }, tree.name)),
                h("p", { class: "meta" }, `${tree.category.name} · ${tree.skillCount} skills · `, tree.isPublished ? "Published" : h("span", { class: "badge badge-draft" }, "Draft")),
              ),
            ),
          )
        : h("p", {}, "You have not written a tree yet."),
    );
  showList(mine);
  replace(
    main,
    h("h1", {}, "Author"),
    listBox,
    h(
      "div",
      { class: "two-columns" },
      createForm(categories),
      importForm(async (slug) => {
        await attempt("Reloading your trees", async () => showList(await api.get("/trees", { mine: "true", pageSize: 100 })));
        if (slug) go("trees", slug);
      }),
    ),
  );
}
