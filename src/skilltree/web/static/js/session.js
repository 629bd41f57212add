// Who is signed in, and whether they may author trees.

import * as api from "./api.js";

export const session = { user: null, canAuthor: false, reviews: false };

function authorRole(user) {
  return user.role === "AUTHOR" || user.role === "ADMIN";
}

/** Load the signed-in user (if a token is kept); a dead token is dropped. */
export async function loadSession() {
  session.user = null;
  session.canAuthor = false;
  session.reviews = false;
  if (!api.token()) return session;
  try {
    session.user = await api.get("/me");
    session.canAuthor = authorRole(session.user);
    session.reviews = session.canAuthor || (await reviewsAnything());
  } catch (error) {
    if (error.status === 401) api.setToken(null);
    else throw error;
  }
  return session;
}

/** Whether a learner reviews some tree's projects, as a mentor (issue 14): the queue answers. */
async function reviewsAnything() {
  try {
    await api.get("/reviews/queue", { pageSize: 1 });
    return true;
  } catch (error) {
    if (error.status === 403) return false;
    throw error;
  }
}

export async function signIn(login, password) {
  const body = login.includes("@") ? { email: login, password } : { username: login, password };
  const answer = await api.post("/auth/login", body);
  api.setToken(answer.token);
  return loadSession();
}

export async function signUp(fields) {
  const answer = await api.post("/auth/register", fields);
  api.setToken(answer.token);
  return loadSession();
}

export async function signOut() {
  try {
    if (api.token()) await api.post("/auth/logout");
  } finally {
    api.setToken(null);
    session.user = null;
    session.canAuthor = false;
    session.reviews = false;
  }
}
