// SPDX-License-Identifier: Apache-2.0
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { LogService } from "@vector-im/matrix-bot-sdk";
import { Logger as LibLogger } from "matrix-appservice-bridge";
import { configureLogging, installLibraryLogging, setLogWriter } from "../../../src/util/logger.js";

/** Our sink's lines during one test. */
function capture(t: TestContext, format: "text" | "json", level: "debug" | "info"): string[] {
  const lines: string[] = [];
  const restore = setLogWriter((l) => lines.push(l));
  configureLogging({ format, level });
  t.after(() => {
    restore();
    configureLogging({ format: "text", level: "info" });
  });
  return lines;
}

/** The library's winston logger may hand a line over on the next tick. */
async function settle(): Promise<void> {
  await tick();
  await tick();
}

installLibraryLogging();

test("the library's logger writes to our sink only, not to its console transport", () => {
  const transports = LibLogger.root.winston?.transports ?? [];
  assert.equal(transports.length, 1);
  assert.deepEqual(
    transports.map((tr) => tr.constructor.name),
    ["Stream"],
  );
});

test("matrix-appservice-bridge Logger lines go through our sink, redacted, in text", async (t) => {
  const lines = capture(t, "text", "debug");
  const log = new LibLogger("Intent", { requestId: "req-7" });
  log.warn(
    "PUT /_matrix/client/v3/x?access_token=at-secret failed",
    { headers: { authorization: "Bearer bearer-secret", accept: "json" }, count: 3 },
    new Error("refused X-Skypetoken: sk-secret"),
  );
  await settle();
  assert.equal(lines.length, 1, lines.join("\n"));
  const line = lines[0]!;
  for (const s of ["at-secret", "bearer-secret", "sk-secret"])
    assert.ok(!line.includes(s), `${s} leaked: ${line}`);
  assert.match(
    line,
    /WARN {2}\[appservice-bridge\/Intent\] PUT \/_matrix\/client\/v3\/x\?access_token=\[redacted\] failed/,
  );
  assert.ok(line.includes("error=Error: refused X-Skypetoken: [redacted]"));
  assert.ok(line.includes('"accept":"json"'));
  assert.ok(line.includes('"count":3'));
  assert.ok(line.includes(" requestId=req-7 "));
});

test("library lines are JSON when our format is JSON", async (t) => {
  const lines = capture(t, "json", "debug");
  new LibLogger("Bridge").error("onEvent failure: Error: t=ticket-secret");
  await settle();
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(entry.level, "error");
  assert.equal(entry.module, "appservice-bridge/Bridge");
  assert.equal(entry.msg, "onEvent failure: Error: t=[redacted]");
});

test("the library's info lines are debug for us; warnings keep their level", async (t) => {
  const lines = capture(t, "text", "info");
  const log = new LibLogger("bridge");
  log.info('::1 - - "PUT /_matrix/app/v1/transactions/1?access_token=hs-secret HTTP/1.1" 200');
  log.debug("debug detail");
  log.warn("a warning");
  await settle();
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0]!, /WARN {2}\[appservice-bridge\/bridge\] a warning$/);

  configureLogging({ level: "debug" });
  log.info('::1 - - "PUT /_matrix/app/v1/transactions/2?access_token=hs-secret HTTP/1.1" 200');
  await settle();
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /DEBUG \[appservice-bridge\/bridge\] .*access_token=\[redacted\]/);
});

test("matrix-bot-sdk LogService lines go through our sink with structured redaction", async (t) => {
  const lines = capture(t, "json", "debug");
  LogService.error("MatrixHttpClient", "(REQ-3)", {
    errcode: "M_FORBIDDEN",
    error: "nope",
    access_token: "as-secret",
    headers: { Authorization: "Bearer bearer-secret" },
  });
  LogService.warn("Intent", { errcode: "M_USER_IN_USE", error: "taken" });
  LogService.info("MatrixLiteClient", "GET /versions");
  await settle();
  assert.equal(lines.length, 3, lines.join("\n"));
  for (const s of ["as-secret", "bearer-secret"]) assert.ok(!lines.join("\n").includes(s), `${s} leaked`);
  const [error, noise, info] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(error!.level, "error");
  assert.equal(error!.module, "bot-sdk/MatrixHttpClient");
  assert.equal(error!.msg, "(REQ-3)");
  assert.deepEqual(error!.args, [
    {
      errcode: "M_FORBIDDEN",
      error: "nope",
      access_token: "[redacted]",
      headers: { Authorization: "[redacted]" },
    },
  ]);
  assert.equal(noise!.level, "debug", "expected Matrix errors are noise");
  assert.equal(info!.level, "debug");
  assert.equal(info!.msg, "GET /versions");
});

test("installing again keeps one route (no duplicated lines)", async (t) => {
  installLibraryLogging();
  const lines = capture(t, "text", "debug");
  new LibLogger("Again").warn("once");
  LogService.warn("Again", "once");
  await settle();
  assert.equal(lines.length, 2, lines.join("\n"));
});
