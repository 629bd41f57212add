// The API client: JSON in and out, the bearer token, and API errors turned into words.

import { problemLines } from "./problems.js";

const BASE = "/api/v1";
const TOKEN_KEY = "skilltree.token";

/** An answer that was not a success, with the problem+json document the API sent. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(describeProblem(status, problem));
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || null;
  }
}

/** A problem+json document in words: its detail, then each field and what is wrong with it. */
export function describeProblem(status, problem) {
  if (!problem || typeof problem !== "object") return `The server answered ${status}.`;
  const lines = problemLines(problem);
  // A detail that only points at `errors` (jargon to a person) gives way to the lines themselves.
  if (lines.length && /`errors`/.test(problem.detail || "")) return lines.join(" ");
  return [problem.detail || problem.title || `The server answered ${status}.`, ...lines].join(" ");
}

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

function address(path, query) {
  const url = new URL(BASE + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

/** Call the API; answers the parsed JSON (null for 204), or throws an ApiError. */
export async function request(method, path, { query, body, raw } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let payload;
  if (raw !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = raw;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(address(path, query), { method, headers, body: payload });
  } catch (error) {
    throw new ApiError(0, { detail: `The server could not be reached (${error.message}).` });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: `The server answered ${response.status} with something that is not JSON.` };
  }
  if (!response.ok) {
    if (response.status === 401 && bearer && path !== "/auth/login") setToken(null);
    throw new ApiError(response.status, data);
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body, query) => request("POST", path, { body, query });
export const patch = (path, body) => request("PATCH", path, { body });
export const put = (path, body) => request("PUT", path, { body });
export const del = (path) => request("DELETE", path);

/** Whether an API route exists on this server (a 404 naming no resource means it does not). */
export function isMissingRoute(error) {
  return error instanceof ApiError && error.status === 404 && !error.code;
}
