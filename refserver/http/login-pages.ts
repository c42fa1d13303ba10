// SPDX-License-Identifier: Apache-2.0
/**
 * The HTML pages of the sign-in server (PROFILE §2, §5): the sign-in form with its hidden PPFT, the
 * wrong-credentials page, the second-factor page and the desktop landing page. Only the parts the
 * profile names matter; the rest merely looks like login.live.com.
 */
import { htmlEscape, jsSingleQuoted } from "./http-util.js";
import type { HttpServerOptions } from "./options.js";

/** The form: posts `login`, `passwd` and `PPFT` to `action` (written HTML-escaped). */
function form(action: string, ppft: string): string {
  return [
    `<form name="f1" id="i0281" method="post" action="${htmlEscape(action)}">`,
    `<input type="email" name="login" id="i0116" autocomplete="username">`,
    `<input type="password" name="passwd" id="i0118" autocomplete="current-password">`,
    `<input type="hidden" name="PPFT" value="${htmlEscape(ppft)}">`,
    `<input type="submit" id="idSIButton9" value="Sign in">`,
    `</form>`,
  ].join("\n");
}

function page(title: string, body: string, script = ""): string {
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(title)}</title>`,
    script ? `<script type="text/javascript">${script}</script>` : "",
    "</head><body>",
    body,
    "</body></html>",
    "",
  ].join("\n");
}

/** The sign-in page the authorize endpoint shows. */
export function signInPage(action: string, ppft: string): string {
  return page(
    "Sign in to your Microsoft account",
    `<div id="loginHeader" role="heading">Sign in</div>\n${form(action, ppft)}`,
    `var ServerData = {sErrTxt:'',iMaxStackForKnockoutAsyncComponents:10000};`,
  );
}

/** Wrong e-mail or password: the form again with a fresh PPFT, plus the [A] error marker. */
export function wrongPasswordPage(opts: HttpServerOptions, action: string, ppft: string): string {
  const msg = opts.wrongPasswordMessage;
  if (opts.wrongPasswordPage === "errorDiv") {
    return page(
      "Sign in to your Microsoft account",
      `<div id="usernameError" role="alert">${htmlEscape(msg)}</div>\n${form(action, ppft)}`,
    );
  }
  return page(
    "Sign in to your Microsoft account",
    `<div id="loginHeader" role="heading">Sign in</div>\n${form(action, ppft)}`,
    `var ServerData = {sErrTxt:'${jsSingleQuoted(msg)}',iMaxStackForKnockoutAsyncComponents:10000};`,
  );
}

/** The account needs a second factor: the [A] page the bridge recognises. */
export function secondFactorPage(opts: HttpServerOptions): string {
  if (opts.secondFactorPage === "SAOTCS") {
    return page(
      "Verify your identity",
      `<div id="idDiv_SAOTCS_Title" role="heading">Verify your identity</div>\n<div>Choose how to get a security code.</div>`,
    );
  }
  return page(
    "Enter code",
    `<div id="idDiv_SAOTCC_Title" role="heading">Enter code</div>\n<div>We sent a code to your phone.</div>`,
  );
}

/** Where the browser lands (the fragment never reaches the server). */
export function desktopPage(error?: string): string {
  const text = error
    ? `Sign-in failed: ${error}`
    : "You are signed in. Copy this page's address back to the bridge.";
  return page("Microsoft account", `<div id="desktopMessage">${htmlEscape(text)}</div>`);
}

/** A plain error page (a 400 that is not about the credentials). */
export function errorPage(message: string): string {
  return page("Microsoft account", `<div id="errorMessage">${htmlEscape(message)}</div>`);
}
