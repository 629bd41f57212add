// Views live behind `#/...` addresses, so every view is a link and the server serves one page.

/** The current address: its path parts and query, from `#/trees/slug?to=x`. */
export function currentRoute() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(search) };
}

/** The address of a view: href("trees", slug) -> "#/trees/slug". */
export function href(...parts) {
  const last = parts[parts.length - 1];
  let query = "";
  if (last && typeof last === "object") {
    parts.pop();
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(last)) if (value) params.set(key, value);
    query = params.toString() ? `?${params}` : "";
  }
  return `#/${parts.map(encodeURIComponent).join("/")}${query}`;
}

export function go(...parts) {
  location.hash = href(...parts);
}
