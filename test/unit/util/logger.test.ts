// SPDX-License-Identifier: Apache-2.0
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { SkypeLogger } from "../../../src/skype/log.js";
import { Logger, configureLogging, errorText, setLogWriter } from "../../../src/util/logger.js";

/** Captures the sink's lines for one test, at the given format and level. */
function capture(t: TestContext, format: "text" | "json", level: "debug" | "info" = "debug"): string[] {
  const lines: string[] = [];
  const restore = setLogWriter((l) => lines.push(l));
  configureLogging({ format, level });
  t.after(() => {
    restore();
    configureLogging({ format: "text", level: "info" });
  });
  return lines;
}

const SECRET_CONTEXT = {
  user: "@alice:example.org",
  count: 3,
  refreshToken: "rt-secret",
  request: { headers: { authorization: "Bearer bearer-secret", "content-type": "application/json" } },
  error: new Error("refused access_token=at-secret"),
};
const SECRETS = ["rt-secret", "bearer-secret", "at-secret", "t-secret", "sk-secret"];

test("text lines redact the message and the context, nested objects included", (t) => {
  const lines = capture(t, "text");
  new Logger("unit")
    .child({ cookie: "c=1" })
    .warn("GET /x?t=t-secret&count=3 X-Skypetoken: sk-secret", SECRET_CONTEXT);
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  for (const s of [...SECRETS, "c=1"]) assert.ok(!line.includes(s), `${s} leaked: ${line}`);
  assert.match(line, /^\S+Z WARN {2}\[unit\] GET \/x\?t=\[redacted\]&count=3 X-Skypetoken: \[redacted\] /);
  assert.ok(line.includes("user=@alice:example.org"));
  assert.ok(line.includes("count=3"));
  assert.ok(line.includes('"content-type":"application/json"'));
  assert.ok(line.includes("error=Error: refused access_token=[redacted]"));
});

test("JSON lines redact the same way and stay parseable", (t) => {
  const lines = capture(t, "json");
  new Logger("unit").error("GET /x?t=t-secret X-Skypetoken: sk-secret", { ...SECRET_CONTEXT, big: 12n });
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  for (const s of SECRETS) assert.ok(!lines[0]!.includes(s), `${s} leaked: ${lines[0]}`);
  assert.equal(entry.level, "error");
  assert.equal(entry.module, "unit");
  assert.equal(entry.msg, "GET /x?t=[redacted] X-Skypetoken: [redacted]");
  assert.equal(entry.refreshToken, "[redacted]");
  assert.deepEqual(entry.request, {
    headers: { authorization: "[redacted]", "content-type": "application/json" },
  });
  assert.equal(entry.count, 3);
  assert.equal(entry.big, "12");
});

test("lines below the configured level are dropped", (t) => {
  const lines = capture(t, "text", "info");
  const log = new Logger("unit");
  log.debug("hidden");
  log.info("shown");
  assert.deepEqual(
    lines.map((l) => l.split("] ")[1]),
    ["shown"],
  );
});

test("errorText keeps the name and code and masks secrets", () => {
  const e = Object.assign(new Error("POST failed: password=hunter2"), { code: "E_AUTH" });
  assert.equal(errorText(e), "Error E_AUTH: POST failed: password=[redacted]");
  assert.equal(errorText("plain refresh_token=abc"), "plain refresh_token=[redacted]");
  const auth = Object.assign(new Error("invalid_grant"), {
    name: "AuthError",
    code: "SKYPE_BAD_CREDENTIALS",
  });
  assert.equal(errorText(auth), "AuthError SKYPE_BAD_CREDENTIALS: invalid_grant");
});

test("Logger fits the protocol client's SkypeLogger", () => {
  const log: SkypeLogger = new Logger("unit");
  assert.equal(typeof log.info, "function");
});

test("per-module levels: the longest matching module name wins, at a name boundary, in both formats", (t) => {
  for (const format of ["text", "json"] as const) {
    const lines = capture(t, format, "info");
    configureLogging({
      format,
      level: "info",
      modules: { "bridge.portal": "debug", "bot-sdk": "error", "bridge.portal.matrix": "warn" },
    });
    t.after(() => configureLogging({ modules: {} }));
    new Logger("bridge.portal.skype").debug("portal debug shown", { refreshToken: "rt-secret" });
    new Logger("bridge.portals").debug("sibling name not matched");
    new Logger("bridge.portal.matrix").info("longer prefix wins: hidden");
    new Logger("bridge.portal.matrix").warn("longer prefix wins: shown");
    new Logger("bot-sdk/MatrixHttpClient").warn("library warn hidden");
    new Logger("bot-sdk/MatrixHttpClient").error("library error shown");
    new Logger("sessions").debug("global level: hidden");
    new Logger("sessions").info("global level: shown");
    const text = lines.join("\n");
    assert.deepEqual(
      [
        "portal debug shown",
        "longer prefix wins: shown",
        "library error shown",
        "global level: shown",
      ].filter((m) => !text.includes(m)),
      [],
      format,
    );
    for (const hidden of [
      "sibling name not matched",
      "longer prefix wins: hidden",
      "library warn hidden",
      "global level: hidden",
    ])
      assert.ok(!text.includes(hidden), `${format}: ${hidden}`);
    assert.ok(!text.includes("rt-secret"), `${format} redacts at any level`);
  }
});
