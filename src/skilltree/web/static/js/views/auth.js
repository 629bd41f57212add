// Sign in and sign up.

import { h, replace } from "../dom.js";
import { href } from "../router.js";
import { signIn, signUp } from "../session.js";

function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
}

function form(title, fields, submitLabel, onSubmit) {
  const error = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit" }, submitLabel);
  const el = h("form", { class: "card narrow", novalidate: true }, h("h1", {}, title), fields, error, button);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      await onSubmit();
    } catch (failure) {
      error.textContent = failure.message || String(failure);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

export async function renderSignIn(main, query, done) {
  const login = h("input", { name: "login", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  replace(
    main,
    form("Sign in", [field("Email or username", login), field("Password", password)], "Sign in", async () => {
      await signIn(login.value.trim(), password.value);
      await done(query.get("next") || href());
    }),
    h("p", { class: "narrow" }, "No account yet? ", h("a", { href: href("signup") }, "Sign up")),
  );
}

export async function renderSignUp(main, query, done) {
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const firstName = h("input", { name: "firstName", autocomplete: "given-name" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true });
  replace(
    main,
    form(
      "Create your account",
      [
        field("Email", email),
        field("Username", username, "3 to 50 letters, digits, dots, dashes or underscores"),
        field("First name (optional)", firstName),
        field("Password", password, "at least 8 characters"),
      ],
      "Sign up",
      async () => {
        const fields = { email: email.value.trim(), username: username.value.trim(), password: password.value };
        if (firstName.value.trim()) fields.firstName = firstName.value.trim();
        await signUp(fields);
        await done(query.get("next") || href());
      },
    ),
    h("p", { class: "narrow" }, "Already registered? ", h("a", { href: href("signin") }, "Sign in")),
  );
}
