// SPDX-License-Identifier: Apache-2.0
import { test } from "node:test";
import assert from "node:assert/strict";
import { REDACTED, isSecretKey, redactContext, redactText, redactValue } from "../../../src/util/redact.js";

/** Asserts that none of `secrets` survives in `out`, and every one of `kept` does. */
function check(out: string, secrets: string[], kept: string[] = []): void {
  for (const s of secrets)
    assert.ok(!out.includes(s), `${JSON.stringify(s)} leaked in ${JSON.stringify(out)}`);
  for (const k of kept) assert.ok(out.includes(k), `${JSON.stringify(k)} lost in ${JSON.stringify(out)}`);
}

test("redactText masks tokens in query strings and forms", () => {
  const out = redactText(
    "GET /rps/me?access_token=EwA+/=abc&_=1&refresh_token=M.R3_B&passwd=hunter2&PPFT=ppft1 then " +
      "/login?t=EwBticket&p= and skypetoken=sk-tok-1&x=2 uic=uic1 password=pw1",
  );
  check(
    out,
    ["EwA+/=abc", "M.R3_B", "hunter2", "ppft1", "EwBticket", "sk-tok-1", "uic1", "pw1"],
    ["access_token=[redacted]", "&_=1", "t=[redacted]&p=", "&x=2", "GET /rps/me?"],
  );
});

test("redactText masks headers: Authorization with its scheme kept, X-Skypetoken, Registration, cookies", () => {
  const out = redactText(
    [
      "Authorization: Bearer abcdef123456",
      "authorization: skypetoken=sk-2",
      "Authorization: RPSToken t=rps-1&p=",
      'Authorization: MSAuth1.0 usertoken="ut-1", type="MSACT"',
      "X-Skypetoken: sk-3",
      "Registration: reg-1",
      "Cookie: MSPOK=ok-1; MSPRequ=rq-1",
      "Set-Cookie: MSPOK=ok-2; Path=/; HttpOnly",
      "Content-Type: text/xml",
    ].join("\r\n"),
  );
  check(
    out,
    ["abcdef123456", "sk-2", "rps-1", "ut-1", "sk-3", "reg-1", "ok-1", "rq-1", "ok-2"],
    ["Authorization: Bearer [redacted]", "RPSToken [redacted]", 'type="MSACT"', "Content-Type: text/xml"],
  );
});

test("redactText masks schemes, JWTs and URL passwords wherever they appear", () => {
  const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
  const out = redactText(`sent Bearer tok-123456 and RPSToken t=abc; got ${jwt}; https://bob:pw-9@host/x`);
  check(out, ["tok-123456", "t=abc", jwt, "pw-9"], ["https://bob:[redacted]@host/x"]);
});

test("redactText masks JSON and util.inspect forms, including arrays under secret keys", () => {
  const json = redactText(
    JSON.stringify({
      refresh_token: "rt-1",
      cookies: ["c-1", "c-2"],
      user: "@a:b",
      headers: { Authorization: "skypetoken=sk-4", "content-type": "application/json" },
    }),
  );
  check(json, ["rt-1", "c-1", "c-2", "sk-4"], ['"user":"@a:b"', '"content-type":"application/json"']);
  assert.doesNotThrow(() => JSON.parse(json) as unknown);

  const inspected = redactText(
    "{ headers: { authorization: 'Bearer xyz', 'x-skypetoken': 'sk-5', accept: 'json' } }",
  );
  check(inspected, ["xyz", "sk-5"], ["accept: 'json'"]);
});

test("redactText masks secret XML elements and HTML fields", () => {
  const out = redactText(
    "<user><ssl-compact-ticket>t=tk&amp;p=</ssl-compact-ticket><uic>uic-2</uic><email>a@b.c</email></user>" +
      '<TicketToken>tt-1</TicketToken><wsse:BinarySecurityToken Id="Compact0">bst-1</wsse:BinarySecurityToken>' +
      '<input type="hidden" name="PPFT" value="ppft-2"/>',
  );
  check(out, ["t=tk", "uic-2", "tt-1", "bst-1", "ppft-2"], ["<email>a@b.c</email>", 'Id="Compact0"']);
});

test("redactText leaves ordinary keys alone: whole keys only, at a word boundary", () => {
  const text =
    "count=3 format=json at=5 t_count=2 state=connected content-type: application/json " +
    "Content-Type=text/xml user=@a:b event_id=$e host=login.live.com msnp: disconnected " +
    "sign-in page set no MSPOK cookie; the address book refused the ticket; token refreshed " +
    "AuthError SKYPE_BAD_CREDENTIALS: invalid_grant";
  assert.equal(redactText(text), text);
});

test("redactText is idempotent", () => {
  const once = redactText("t=abc Authorization: Bearer abcdefgh Cookie: a=1; b=2 <uic>u</uic>");
  assert.equal(redactText(once), once);
});

test("isSecretKey compares words, not substrings", () => {
  for (const k of [
    "password",
    "refreshToken",
    "refresh_token",
    "access_token",
    "X-Skypetoken",
    "skypetoken",
    "RPSToken",
    "set-cookie",
    "cookies",
    "authorization",
    "PPFT",
    "uic",
    "ticketToken",
    "token_key",
    "clientSecret",
    "MSPOK",
  ]) {
    assert.equal(isSecretKey(k), true, k);
  }
  for (const k of [
    "count",
    "format",
    "content-type",
    "user",
    "keyed",
    "passthrough",
    "syncKey",
    "cacheKey",
    "t",
  ]) {
    assert.equal(isSecretKey(k), false, k);
  }
  assert.equal(isSecretKey("t", { short: true }), true);
});

test("redactContext masks secret keys at any depth, in arrays, Maps and errors", () => {
  const err = Object.assign(new Error("failed with access_token=at-1"), { code: "E_X", token: "t-in-error" });
  const context: Record<string, unknown> = {
    user: "@a:b",
    refreshToken: "rt-2",
    password: "p",
    hasToken: true,
    request: {
      url: "https://h/x?skypetoken=sk-6&n=1",
      headers: { authorization: "Bearer abcdefgh", "content-type": "json" },
      nested: [{ cookie: "a=1" }, "t=tk-2", { deeper: { secret: { any: "thing" } } }],
    },
    error: err,
    registry: new Map<string, unknown>([
      ["uic", "uic-3"],
      ["size", 2],
    ]),
  };
  context.self = context;
  const out = redactContext(context);
  assert.deepEqual(out, {
    user: "@a:b",
    refreshToken: REDACTED,
    password: REDACTED,
    hasToken: true,
    request: {
      url: "https://h/x?skypetoken=[redacted]&n=1",
      headers: { authorization: REDACTED, "content-type": "json" },
      nested: [{ cookie: REDACTED }, "t=[redacted]", { deeper: { secret: REDACTED } }],
    },
    error: "Error E_X: failed with access_token=[redacted]",
    registry: { uic: REDACTED, size: 2 },
    self: "[circular]",
  });
  // The input is not modified.
  assert.equal(
    (context.request as { headers: { authorization: string } }).headers.authorization,
    "Bearer abcdefgh",
  );
});

test("redactValue makes any value serialisable", () => {
  const out = redactValue({
    n: 10n,
    buf: Buffer.from("abc"),
    when: new Date(0),
    f: () => 1,
    s: new Set(["t=x"]),
  });
  assert.deepEqual(out, {
    n: "10",
    buf: "[3 bytes]",
    when: "1970-01-01T00:00:00.000Z",
    f: "[function]",
    s: ["t=[redacted]"],
  });
  assert.doesNotThrow(() => JSON.stringify(out));
});
