// The colour theme, set on <html data-theme="light|dark"> before the first paint: this is a classic
// script loaded in <head> ahead of the styles (the Content-Security-Policy allows no inline
// script). The choice ("light", "dark", or none: follow the system) is kept in localStorage under
// "skilltree.theme"; js/theme.js changes it and then sends "skilltree-theme" to apply it here.
// Every change of the applied theme is announced as a "themechange" event on document (the
// minimap redraws its canvas from the CSS variables).
(function () {
  "use strict";
  var root = document.documentElement;
  var system = window.matchMedia("(prefers-color-scheme: dark)");
  function stored() {
    try {
      var choice = localStorage.getItem("skilltree.theme");
      return choice === "light" || choice === "dark" ? choice : "system";
    } catch (error) {
      return "system";
    }
  }
  function apply() {
    var choice = stored();
    var theme = choice === "system" ? (system.matches ? "dark" : "light") : choice;
    var changed = root.getAttribute("data-theme") !== theme;
    root.setAttribute("data-theme", theme);
    root.setAttribute("data-theme-choice", choice);
    if (changed) document.dispatchEvent(new CustomEvent("themechange", { detail: { theme: theme } }));
  }
  apply();
  system.addEventListener("change", apply);
  document.addEventListener("skilltree-theme", apply);
  window.addEventListener("storage", function (event) {
    if (event.key === "skilltree.theme" || event.key === null) apply();
  });
})();
