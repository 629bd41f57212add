// Layouts kept in the browser (IndexedDB) across visits: one per tree, under the tree's slug,
// with the key of the graph it was computed for (graph/layout.js). A revisit of an unchanged
// tree reads it back instead of laying the tree out again. Where IndexedDB is missing or
// refuses (a private window, a full disk), nothing is kept and nothing fails.

const DATABASE = "skilltree";
const STORE = "layouts";

let opened = null;

function open() {
  if (!opened) {
    opened = new Promise((resolve) => {
      try {
        const request = indexedDB.open(DATABASE, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
        request.onblocked = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  }
  return opened;
}

function run(mode, act) {
  return open().then(
    (db) =>
      new Promise((resolve) => {
        if (!db) return resolve(null);
        try {
          const request = act(db.transaction(STORE, mode).objectStore(STORE));
          request.onsuccess = () => resolve(request.result ?? null);
          request.onerror = () => resolve(null);
        } catch {
          resolve(null);
        }
      }),
  );
}

/** The layout kept for tree `slug` if it was computed for the graph `key`, else null. */
export async function loadLayout(slug, key) {
  const kept = await run("readonly", (store) => store.get(slug));
  return kept && kept.key === key ? kept.result : null;
}

/** Keep `result` as tree `slug`'s layout for the graph `key` (replacing an older one). */
export function saveLayout(slug, key, result) {
  return run("readwrite", (store) => store.put({ key, result }, slug));
}
