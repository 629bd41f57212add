// A tree's insight for its author and admins (issue 15 part 9): the map coloured by the funnel
// (how many learners reached, started and completed each skill; where they stall), and charts of
// completions over time, cohort retention and time to complete, each with a table.

import * as api from "../api.js";
import { h, minutes, replace } from "../dom.js";
import { layoutFor } from "../graph/layout.js";
import { BANDS, GraphView, piePath } from "../graph/render.js";
import { href } from "../router.js";
import { session } from "../session.js";
import { drawChart, loadUplot } from "./charts.js";

/** The skills ringed as stalls: the worst of the API's ranking (median time against estimate). */
export const STALL_TOP = 10;
/** Days of the completions chart. */
const SERIES_DAYS = 90;
const COHORT_WEEKS = 12;
const BAND_WORDS = ["under 20%", "20–39%", "40–59%", "60–79%", "80% or more"];

const count = new Intl.NumberFormat("en");
const percent = (share) => `${Math.round(share * 100)}%`;

/** Minutes in words, rounded to what is worth reading ("3 h 20 min", "2 days 4 h"). */
export function duration(total) {
  if (total === null || total === undefined) return "none yet";
  const whole = Math.round(total);
  if (whole < 48 * 60) return minutes(whole);
  const days = Math.floor(whole / 1440);
  const hours = Math.round((whole % 1440) / 60);
  return hours ? `${days} days ${hours} h` : `${days} days`;
}

/** A skill's band (0-4) from the share of enrolled learners who completed it. */
export function bandOf(share) {
  return Math.min(4, Math.max(0, Math.floor(share * 5)));
}

/**
 * What the map shows for every skill: Map id -> {band, share, sub, subShort, words, stalled,
 * stall}
 * (render.js setInsight), from the funnel and the stalls (worst first).
 */
export function skillFigures(funnel, stalls) {
  const enrolled = funnel.enrolments;
  const stalledBy = new Map(stalls.map((row, i) => [row.skillId, { row, rank: i + 1 }]));
  const figures = new Map();
  for (const skill of funnel.skills) {
    const share = enrolled ? skill.completed / enrolled : 0;
    const stall = stalledBy.get(skill.skillId);
    const stalled = stall?.row.stalled || 0;
    const subShort = enrolled ? `${percent(share)} done` : "No learners";
    const words = [
      `${count.format(skill.unlocked)} reached`,
      `${count.format(skill.started)} started`,
      `${count.format(skill.completed)} completed of ${count.format(enrolled)} enrolled`,
      `${count.format(skill.skipped)} skipped`,
      `${count.format(stalled)} stalled`,
    ];
    const ranked = stall && stall.rank <= STALL_TOP ? stall.rank : 0;
    if (ranked) {
      const against = stall.row.medianToEstimate ? `, ${stall.row.medianToEstimate.toFixed(1)} times the estimate` : "";
      words.push(`stall ${ranked} of ${Math.min(STALL_TOP, stalls.length)}: median ${duration(stall.row.medianMinutes)} since starting${against}`);
    }
    figures.set(skill.skillId, {
      band: bandOf(share),
      share,
      subShort,
      sub: stalled ? `${subShort} · ${count.format(stalled)} stalled` : subShort,
      words: words.join(", "),
      stalled,
      stall: ranked,
    });
  }
  return figures;
}

function legend(stallCount) {
  const pie = (share) => h("span", { class: "legend-pie", "aria-hidden": "true" }, pieSvg(share));
  return h(
    "ul",
    { class: "legend insight-legend", "aria-label": "Legend" },
    BANDS.map((band, i) => h("li", {}, h("span", { class: `legend-band ${band}`, "aria-hidden": "true" }), `${BAND_WORDS[i]} of enrolled learners completed it`)),
    h("li", {}, pie(0.64), "Pie and words: the share who completed it (64% done)"),
    h("li", {}, h("span", { class: "legend-stall", "aria-hidden": "true" }), stallCount ? `Dashed amber ring: the ${stallCount} skills where learners stall most` : "Dashed amber ring: where learners stall (none now)"),
  );
}

function pieSvg(share) {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "-9 -9 18 18");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  const circle = document.createElementNS(svgNs, "circle");
  circle.setAttribute("r", "8");
  circle.setAttribute("class", "pie-bg");
  const path = document.createElementNS(svgNs, "path");
  path.setAttribute("d", piePath(share));
  path.setAttribute("class", "pie");
  svg.append(circle, path);
  return svg;
}

/** A table, its rows made only when first opened (a 1,000-skill tree's rows cost nothing before). */
function tableDisclosure(id, summary, caption, head, rows) {
  const details = h("details", { class: "chart-table", id });
  details.append(h("summary", {}, summary));
  details.addEventListener("toggle", () => {
    if (!details.open || details.querySelector("table")) return;
    const body = h("tbody", {});
    for (const row of rows()) body.append(h("tr", {}, row.map((cell, i) => h(i ? "td" : "th", i ? {} : { scope: "row" }, cell))));
    details.append(h("div", { class: "table-scroll", tabindex: 0, role: "region", "aria-label": caption }, h("table", {}, h("caption", {}, caption), h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col" }, cell)))), body)));
  });
  return details;
}

/** Why the page cannot be shown, in plain words (a view without a leave function). */
function refusal(view, slug, error) {
  say(view, slug, error);
  return null;
}

function say(view, slug, error) {
  const back = h("p", {}, h("a", { href: href("trees", slug) }, "Back to the tree"));
  if (error.status === 401) {
    return replace(view, h("h1", {}, "Tree insight"), h("p", {}, "Sign in as the tree's author to see how learners do in it."), h("p", {}, h("a", { href: href("signin", { next: href("trees", slug, "insight") }) }, "Sign in")));
  }
  if (error.status === 403) {
    return replace(view, h("h1", {}, "Tree insight"), h("p", { class: "refusal" }, "Only the tree's author or an admin can see how learners do in it. You can still learn with the tree."), back);
  }
  if (error.status === 404) {
    return replace(view, h("h1", {}, "Tree insight"), h("p", { class: "refusal" }, "There is no tree at this address that you may see."), h("p", {}, h("a", { href: href() }, "Back to the catalog")));
  }
  throw error;
}

export async function renderInsight(view, slug) {
  if (!session.user) return refusal(view, slug, { status: 401 });
  // The charting library loads while the figures are asked for (a failure is said by the charts).
  loadUplot().catch(() => {});
  const path = `/analytics/trees/${encodeURIComponent(slug)}`;
  const today = new Date();
  const first = new Date(today.getTime() - (SERIES_DAYS - 1) * 86400000);
  const day = (date) => date.toISOString().slice(0, 10);
  let data;
  try {
    // The funnel first: a refusal (403, 404) is said before the other figures are asked for.
    const funnel = await api.get(`${path}/funnel`);
    // The map's layout is read (or computed) as soon as the tree's document is here, while the
    // other figures are still on their way.
    const docReady = api.get(`/trees/${encodeURIComponent(slug)}`);
    const layoutReady = docReady.then((doc) => layoutFor(slug, doc));
    layoutReady.catch(() => {});
    const [doc, stalls, times, series, cohorts] = await Promise.all([
      docReady,
      api.get(`${path}/stalls`, { limit: 1000 }),
      api.get(`${path}/time-to-complete`),
      api.get(`${path}/completions`, { from: day(first), to: day(today) }),
      api.get(`${path}/cohorts`, { weeks: COHORT_WEEKS }),
    ]);
    data = { funnel, doc, stalls, times, series, cohorts, layoutReady };
  } catch (error) {
    return refusal(view, slug, error);
  }
  return drawInsight(view, slug, data);
}

function drawInsight(view, slug, { funnel, doc, stalls, times, series, cohorts, layoutReady }) {
  const arrived = performance.now();
  const figures = skillFigures(funnel, stalls);
  const stallCount = Math.min(STALL_TOP, stalls.length);
  const page = h("section", { class: "insight-page", "data-ready": "false" });
  const graphBox = h("div", { class: "graph-box", id: "insight-graph" });
  const detail = h("aside", { class: "panel insight-panel", "aria-label": "Skill figures", hidden: true });
  const graph = new GraphView(graphBox, { onSelect: (id) => showSkill(id), onEscape: () => closeSkill() });
  graphBox.append(
    h(
      "div",
      { class: "graph-controls" },
      h("button", { type: "button", "aria-label": "Zoom in", onClick: () => graph.zoom(1.25) }, "+"),
      h("button", { type: "button", "aria-label": "Zoom out", onClick: () => graph.zoom(0.8) }, "−"),
      h("button", { type: "button", "aria-label": "Fit the whole tree", onClick: () => graph.fit() }, "Fit"),
    ),
  );
  graph.setInsight(figures);
  const timesBy = new Map(times.skills.map((row) => [row.skillId, row]));

  function showSkill(id) {
    const skill = funnel.skills.find((row) => row.skillId === id);
    if (!skill) return;
    graph.select(id);
    const figure = figures.get(id);
    const time = timesBy.get(id);
    const item = (term, value) => [h("dt", {}, term), h("dd", {}, value)];
    replace(
      detail,
      h("h2", { id: "insight-skill", tabindex: "-1" }, skill.name),
      h("dl", { class: "figures" }, item("Reached (unlocked)", count.format(skill.unlocked)), item("Started", count.format(skill.started)), item("Completed", `${count.format(skill.completed)} (${figure.subShort})`), item("Skipped", count.format(skill.skipped)), item("Stalled now", count.format(figure.stalled)), item("Time to complete, median", duration(time?.p50Minutes)), item("Time to complete, 95th percentile", duration(time?.p95Minutes))),
      figure.stall ? h("p", { class: "stall-note" }, `Stall ${figure.stall} of ${stallCount}.`) : null,
      h("button", { type: "button", onClick: () => closeSkill() }, "Close"),
    );
    detail.hidden = false;
    detail.querySelector("h2").focus();
  }

  function closeSkill() {
    if (detail.hidden) return;
    const id = graph.selectedId;
    detail.hidden = true;
    graph.select(null);
    if (id) graph.focusNode(id);
  }
  detail.addEventListener("keydown", (event) => event.key === "Escape" && closeSkill());

  const stallRows = stalls.slice(0, STALL_TOP).map((row, i) =>
    h(
      "tr",
      {},
      h("td", {}, String(i + 1)),
      h("th", { scope: "row" }, h("button", { type: "button", class: "link-button", onClick: () => (graph.goTo(row.skillId), graph.focusNode(row.skillId), showSkill(row.skillId)) }, row.name)),
      h("td", {}, count.format(row.stalled)),
      h("td", {}, duration(row.medianMinutes)),
      h("td", {}, row.medianToEstimate ? `${row.medianToEstimate.toFixed(1)}×` : "no estimate"),
      h("td", {}, count.format(row.stuck)),
    ),
  );
  const stallTable = stallRows.length
    ? h("div", { class: "table-scroll", tabindex: 0, role: "region", "aria-label": "Table of the worst stalls" }, h("table", { class: "stall-table" }, h("caption", {}, `Where learners stall: the ${stallCount} worst skills`), h("thead", {}, h("tr", {}, ["Rank", "Skill", "Stalled learners", "Median since starting", "Against the estimate", "Flagged stuck"].map((cell) => h("th", { scope: "col" }, cell)))), h("tbody", {}, stallRows)))
    : h("p", {}, "No learner is stalled on a skill of this tree now.");

  const chart = (id, title, summary, table) => {
    const box = h("div", { class: "chart-box", "aria-hidden": "true" });
    return { box, section: h("section", { class: "chart", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), h("p", { class: "chart-summary" }, summary), box, table) };
  };
  const days = series.days;
  const completedInRange = days.reduce((sum, d) => sum + d.completions, 0);
  const completionsChart = chart(
    "completions",
    "Completions over time",
    `${count.format(completedInRange)} skill completions in the last ${days.length} days (UTC), with their 7-day average and the learners active each day.`,
    tableDisclosure("completions-table", "Completions as a table", "Completions per day", ["Day", "Enrolments", "Completions", "7-day average", "Active learners"], () => days.map((d) => [d.day, count.format(d.enrolments), count.format(d.completions), d.completions7DayAverage.toFixed(1), count.format(d.activeLearners)])),
  );
  const cohortRows = cohorts.cohorts.filter((c) => c.learners > 0);
  const maxWeeks = Math.max(0, ...cohortRows.map((c) => c.weeks.length));
  const cohortChart = chart(
    "cohorts",
    "Cohort retention",
    cohortRows.length ? `${cohortRows.length} weekly cohorts of learners by the week they enrolled; the share active in this tree each week after.` : `No learner enrolled in the last ${COHORT_WEEKS} weeks.`,
    tableDisclosure("cohorts-table", "Cohort retention as a table", "Share of each cohort active in the tree, week by week after enrolling", ["Cohort (week of)", "Learners", ...Array.from({ length: maxWeeks }, (_, i) => `Week ${i}`)], () => cohortRows.map((c) => [c.week, count.format(c.learners), ...Array.from({ length: maxWeeks }, (_, i) => (c.weeks[i] ? `${percent(c.weeks[i].retention ?? 0)} (${count.format(c.weeks[i].active)})` : "—"))])),
  );
  const timed = times.skills.filter((row) => row.completed > 0);
  // The chart ranks the skills completed by someone, slowest median first (the table keeps the
  // tree's order).
  const slowest = timed.filter((row) => row.p50Minutes !== null).sort((a, b) => b.p50Minutes - a.p50Minutes);
  const timeChart = chart(
    "times",
    "Time to complete",
    `Median and 95th percentile from starting a skill to completing it, for the ${count.format(timed.length)} skills completed by someone, slowest first; as of ${new Date(times.freshness.asOf).toLocaleString("en")}.`,
    tableDisclosure("times-table", "Time to complete as a table", "Time to complete each skill", ["Skill", "Completed by", "Median", "95th percentile", "Median time logged"], () => times.skills.map((row) => [row.name, count.format(row.completed), duration(row.p50Minutes), duration(row.p95Minutes), duration(row.p50SpentMinutes)])),
  );
  const funnelTable = tableDisclosure("funnel-table", "Every skill's funnel as a table", "Learners at each stage of every skill", ["Skill", "Reached", "Started", "Completed", "Skipped", "Stalled"], () =>
    funnel.skills.map((skill) => [skill.name, count.format(skill.unlocked), count.format(skill.started), count.format(skill.completed), count.format(skill.skipped), count.format(figures.get(skill.skillId).stalled)]),
  );

  page.dataset.figuresMs = String(Math.round(performance.now() - arrived));
  replace(
    view,
    replace(
      page,
      h("div", { class: "tree-head" }, h("p", { class: "crumbs" }, h("a", { href: href() }, "Catalog"), " › ", h("a", { href: href("trees", slug) }, doc.name)), h("h1", {}, `Insight: ${doc.name}`), h("p", { class: "meta" }, `${count.format(funnel.enrolments)} learners enrolled · ${funnel.skills.length} skills · figures exact as of ${new Date(funnel.freshness.foldedAt || Date.now()).toLocaleString("en")}`)),
      h("section", { class: "insight-map", "aria-labelledby": "map-title" }, h("h2", { id: "map-title" }, "The map by the funnel"), h("p", { class: "hint" }, "Each skill is coloured by the share of enrolled learners who completed it; its name says how many reached, started and completed it. Click a skill (or focus it and press Enter) for its figures."), h("div", { class: "tree-body" }, h("div", { class: "graph-wrap" }, graphBox, legend(stallCount)), h("div", { class: "side" }, detail)), funnelTable),
      h("section", { class: "stalls", "aria-labelledby": "stalls-title" }, h("h2", { id: "stalls-title" }, "Where learners stall"), stallTable),
      completionsChart.section,
      cohortChart.section,
      timeChart.section,
    ),
  );

  page.dataset.builtMs = String(Math.round(performance.now() - arrived));
  // The charts (uPlot, loaded once) and the map (its layout kept per tree version) draw as they
  // can; the page says when all is drawn and how long after its data arrived (data-ready-ms).
  const xDays = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const charts = Promise.all([
    drawChart(completionsChart.box, {
      x: xDays,
      time: true,
      series: [
        { label: "Completions", values: days.map((d) => d.completions), colour: "--chart-1", bars: true },
        { label: "7-day average", values: days.map((d) => d.completions7DayAverage), colour: "--chart-2" },
        { label: "Active learners", values: days.map((d) => d.activeLearners), colour: "--chart-3" },
      ],
    }),
    drawChart(cohortChart.box, {
      x: Array.from({ length: maxWeeks }, (_, i) => i),
      xLabel: "Weeks after enrolling",
      yLabel: "% active",
      series: cohortRows.map((c, i) => ({ label: `Week of ${c.week} (${count.format(c.learners)})`, values: Array.from({ length: maxWeeks }, (_, k) => (c.weeks[k] ? Math.round((c.weeks[k].retention ?? 0) * 1000) / 10 : null)), colour: `--chart-${(i % 4) + 1}` })),
    }),
    drawChart(timeChart.box, {
      x: slowest.map((_, i) => i + 1),
      xLabel: "Skills, slowest median first",
      yLabel: "hours",
      xNames: slowest.map((row) => row.name),
      series: [
        { label: "Median", values: slowest.map((row) => row.p50Minutes / 60), colour: "--chart-1" },
        { label: "95th percentile", values: slowest.map((row) => (row.p95Minutes === null ? null : row.p95Minutes / 60)), colour: "--chart-2" },
      ],
    }),
  ]).then(
    () => {
      page.dataset.chartsMs = String(Math.round(performance.now() - arrived));
    },
  ).catch((error) => {
    for (const part of [completionsChart, cohortChart, timeChart]) replace(part.box, h("p", { class: "error" }, `${error.message} The table below has the same figures.`));
  });
  const map = layoutReady.then((layout) => {
    graphBox.dataset.layout = layout.source;
    graph.render(doc, layout, new Map());
    page.dataset.mapMs = String(Math.round(performance.now() - arrived));
  });
  Promise.all([charts, map]).then(() =>
    requestAnimationFrame(() => {
      page.dataset.readyMs = String(Math.round(performance.now() - arrived));
      page.dataset.ready = "true";
    }),
  );
  // Nothing to stop on leaving: the charts let go of their listeners once off the page.
  return null;
}
