import { test } from "node:test";
import assert from "node:assert/strict";
import { redactContext, redactText } from "../../../src/skype/log.js";

test("redactText masks tokens in queries, headers and XML", () => {
  const s = redactText(
    "GET /rps/me?access_token=EwA+/=abc&_=1 Registration: abc123 <uic>SECRET</uic> passwd=hunter2",
  );
  assert.ok(!s.includes("EwA+/=abc"));
  assert.ok(!s.includes("abc123"));
  assert.ok(!s.includes("SECRET"));
  assert.ok(!s.includes("hunter2"));
});

test("redactContext masks secret-looking keys", () => {
  const c = redactContext({ refreshToken: "x", user: "@a:b", password: "p" });
  assert.deepEqual(c, { refreshToken: "[redacted]", user: "@a:b", password: "[redacted]" });
});
