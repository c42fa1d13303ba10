import { test } from "node:test";
import assert from "node:assert/strict";
import { authorizeUrl, extractFragment, parseRedirect } from "../../../src/skype/auth/authorize.js";
import {
  findErrorText,
  findFormAction,
  findHiddenInput,
  htmlUnescape,
  isSecondFactorPage,
} from "../../../src/skype/auth/html.js";
import { parseJsonOrJsonp } from "../../../src/skype/api/account.js";
import { AuthError, SkypeErrorCode } from "../../../src/skype/errors.js";

const login = { login: "https://login.live.com" };
const AT = "EwA+abc/def=";
const RT = "M.R3+x/y==";
const FRAG =
  `access_token=${encodeURIComponent(AT)}&token_type=bearer&expires_in=86400` +
  `&scope=service%3A%3Askype.com%3A%3AMBI_SSL&refresh_token=${encodeURIComponent(RT)}&state=999&user_id=0123456789ABCDEF`;

const isAuth = (code: string) => (e: unknown) => e instanceof AuthError && e.code === code && !e.retryable;

test("the authorize URL is PROFILE §2.1's, with a trailing slash on the base tolerated", () => {
  const expected =
    "https://login.live.com/oauth20_authorize.srf?client_id=00000000480BC46C&scope=service::skype.com::MBI_SSL" +
    "&response_type=token&redirect_uri=https://login.live.com/oauth20_desktop.srf&state=999&locale=en";
  assert.equal(authorizeUrl(login), expected);
  assert.equal(authorizeUrl({ login: "https://login.live.com/" }), expected);
  const u = new URL(authorizeUrl({ login: "http://127.0.0.1:8080" }, "a b&c"));
  assert.equal(u.searchParams.get("redirect_uri"), "http://127.0.0.1:8080/oauth20_desktop.srf");
  assert.equal(u.searchParams.get("state"), "a b&c");
});

test("a pasted final URL, fragment with # or without gives the same tokens", () => {
  const forms = [
    `https://login.live.com/oauth20_desktop.srf?lc=1033#${FRAG}`,
    `#${FRAG}`,
    FRAG,
    `  "https://login.live.com/oauth20_desktop.srf#${FRAG}"  `,
  ];
  for (const pasted of forms) {
    const t = parseRedirect(pasted);
    assert.equal(t.accessToken, AT);
    assert.equal(t.refreshToken, RT);
    assert.equal(t.expiresIn, 86400);
    assert.equal(t.scope, "service::skype.com::MBI_SSL");
    assert.equal(t.userId, "0123456789abcdef");
  }
});

test("a raw + in a token stays a +", () => {
  const t = parseRedirect(`#access_token=a+b&refresh_token=c+d/e=&state=999`);
  assert.equal(t.accessToken, "a+b");
  assert.equal(t.refreshToken, "c+d/e=");
});

test("state mismatch, missing tokens and OAuth errors are distinct typed errors", () => {
  assert.throws(
    () => parseRedirect(FRAG.replace("state=999", "state=998")),
    isAuth(SkypeErrorCode.StateMismatch),
  );
  assert.throws(() => parseRedirect(FRAG.replace("&state=999", "")), isAuth(SkypeErrorCode.StateMismatch));
  assert.throws(() => parseRedirect(FRAG, "1234"), isAuth(SkypeErrorCode.StateMismatch));
  assert.throws(
    () => parseRedirect("https://login.live.com/oauth20_desktop.srf"),
    isAuth(SkypeErrorCode.BadRedirect),
  );
  assert.throws(() => parseRedirect("#state=999&access_token=x"), isAuth(SkypeErrorCode.BadRedirect));
  assert.throws(() => parseRedirect(""), isAuth(SkypeErrorCode.BadRedirect));
  assert.throws(
    () =>
      parseRedirect(
        "https://login.live.com/oauth20_desktop.srf?error=access_denied&error_description=The+user+said+no",
      ),
    (e: unknown) =>
      e instanceof AuthError && e.code === SkypeErrorCode.OAuth && e.message.includes("The user said no"),
  );
});

test("errors never carry the token", () => {
  try {
    parseRedirect(FRAG.replace("state=999", "state=1"));
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(!(e as Error).message.includes(AT));
  }
});

test("extractFragment keeps the query of a fragment-less URL only", () => {
  assert.equal(extractFragment("https://x/y?error=e"), "error=e");
  assert.equal(extractFragment("#a=1"), "a=1");
  assert.equal(extractFragment("a=1"), "a=1");
});

const PAGE = `<html><body>
<form name="f1" method="post" target="_top" action="https://login.live.com/ppsecure/post.srf?client_id=00000000480BC46C&amp;scope=service::skype.com::MBI_SSL&amp;state=999" id="i0281">
<input type="hidden" name="PPFT" id="i0327" value="Dd3$abc!&amp;x"/>
<input type="email" name="login"></form></body></html>`;

test("PPFT and the form action are scraped and HTML-unescaped", () => {
  assert.equal(findHiddenInput(PAGE, "PPFT"), "Dd3$abc!&x");
  assert.equal(
    findFormAction(PAGE),
    "https://login.live.com/ppsecure/post.srf?client_id=00000000480BC46C&scope=service::skype.com::MBI_SSL&state=999",
  );
});

test("PPFT inside a JS string and urlPost are found too", () => {
  const js = `<script>var ServerData={sFTTag:'<input type="hidden" name="PPFT" id="i0327" value="Q*w!e"/>',urlPost:'https://l/ppsecure/post.srf?a=1\\u0026b=2',sErrTxt:''};</script>`;
  assert.equal(findHiddenInput(js, "PPFT"), "Q*w!e");
  assert.equal(findFormAction(js), "https://l/ppsecure/post.srf?a=1&b=2");
  assert.equal(findErrorText(js), undefined);
  const reordered = `<INPUT value='v1' NAME=PPFT type=hidden>`;
  assert.equal(findHiddenInput(reordered, "PPFT"), "v1");
});

test("wrong-password text and the second-factor marker are recognised", () => {
  const wrong = `<script>var d={sErrTxt:'Your account or password is incorrect. If you don\\'t remember your password, <a href=\\"x\\">reset it now.</a>'};</script>`;
  assert.equal(
    findErrorText(wrong),
    "Your account or password is incorrect. If you don't remember your password, reset it now.",
  );
  assert.equal(isSecondFactorPage(`<div id="idDiv_SAOTCC_Title" class="row">Enter code</div>`), true);
  assert.equal(isSecondFactorPage(PAGE), false);
});

test("htmlUnescape handles named and numeric references", () => {
  assert.equal(htmlUnescape("a&amp;b&#39;c&#x2F;&lt;&unknown;"), "a&b'c/<&unknown;");
});

test("JSON and JSONP bodies both parse", () => {
  assert.deepEqual(parseJsonOrJsonp('{"cid":"1"}', "x"), { cid: "1" });
  assert.deepEqual(parseJsonOrJsonp('cb_1({"cid":"1"});', "x"), { cid: "1" });
  assert.deepEqual(parseJsonOrJsonp(' /**/ cb ( {"a":[1]} ) ', "x"), { a: [1] });
  assert.throws(
    () => parseJsonOrJsonp("<html>", "x"),
    (e: unknown) => (e as { code?: string }).code === SkypeErrorCode.Parse,
  );
});
