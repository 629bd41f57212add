// The header's theme control (System, Light, Dark): remembered in localStorage, applied by
// theme-boot.js (which also applied it before the first paint).

const KEY = "skilltree.theme";

/** Keep `choice` ("system", "light" or "dark") and apply it. */
export function setTheme(choice) {
  try {
    if (choice === "light" || choice === "dark") localStorage.setItem(KEY, choice);
    else localStorage.removeItem(KEY);
  } catch {
    // Storage refused (some private windows): the choice holds for this page only.
    document.documentElement.setAttribute("data-theme-choice", choice);
  }
  document.dispatchEvent(new CustomEvent("skilltree-theme"));
}

/** Wire the header's <select id="theme"> to the kept choice. */
export function initThemeControl() {
  const select = document.getElementById("theme");
  if (!select) return;
  select.value = document.documentElement.getAttribute("data-theme-choice") || "system";
  select.addEventListener("change", () => setTheme(select.value));
}
