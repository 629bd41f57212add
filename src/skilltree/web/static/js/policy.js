// A skill's completion policy (docs/api.md, "Completion policies"): the methods that complete
// it, each with its parameters, in words for learners and as the author's form sets it.

import { minutes } from "./dom.js";

/** Each method, and how the author's form names it. */
export const METHODS = [
  ["MANUAL", "Marked done by the learner"],
  ["ASSESSMENT", "Passing an assessment"],
  ["PROJECT", "A reviewed project"],
  ["TIME_BASED", "Time spent on it"],
  ["EXTERNAL", "Another platform (signed)"],
];

/** How a skill is completed, in words: "Marking it done, or passing its assessment". */
export function describePolicy(policy) {
  const ways = [];
  const p = policy || {};
  if (p.MANUAL) ways.push("marking it done");
  if (p.ASSESSMENT) ways.push(p.ASSESSMENT.passingScore === undefined ? "passing its assessment" : `passing its assessment with ${p.ASSESSMENT.passingScore}%`);
  if (p.PROJECT) ways.push("a reviewed project");
  if (p.TIME_BASED) ways.push(`${minutes(p.TIME_BASED.minutes)} spent on it`);
  if (p.EXTERNAL) ways.push("another platform");
  const text = ways.join(", or ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether the learner may complete the skill by saying so (the app's Complete button). */
export function selfReported(policy) {
  return Boolean(policy && policy.MANUAL);
}
