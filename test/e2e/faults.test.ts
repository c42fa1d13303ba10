// SPDX-License-Identifier: Apache-2.0
/**
 * Faults, end to end (the short version of `npm run reliability`): a two-way stream of 100 messages
 * over a DM and a group portal while the bridge is SIGKILLed and restarted, the server drops the
 * Skype connection twice, Synapse restarts once and access tokens expire every 30 s. Rooms are read
 * with /messages and Skype through the reference server's control API: nothing lost, nothing twice,
 * order kept per room, at most one state notice per outage.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import { formatTable } from "./harness/fault-figures.js";
import { runFaultStream, type FaultRunResult } from "./harness/fault-run.js";

describe("faults, end to end (short run)", () => {
  let env: E2EEnv;
  let result: FaultRunResult;
  const progress: string[] = [];

  before(async () => {
    env = await E2EEnv.create();
    result = await runFaultStream(env, {
      messages: 100,
      sigkills: 1,
      drops: 2,
      synapseRestarts: 1,
      tokenLifetimeSec: 30,
      durationMs: 90_000,
      log: (line) => progress.push(line),
    });
  });
  after(async () => {
    await env?.close();
  });

  test("every fault was injected and recovered from", (t) => {
    const tokens = result.tokens
      ? `token refreshes: ${result.tokens.refreshes}, HTTP requests refused with 401: ${result.tokens.refused401}`
      : "";
    for (const line of [...progress, "", ...formatTable(result.figures).split("\n"), tokens])
      t.diagnostic(line);
    assert.deepEqual(result.faults.map((f) => f.kind).sort(), ["drop", "drop", "sigkill", "synapse"]);
    assert.deepEqual(
      result.faults.filter((f) => f.error).map((f) => `${f.kind}: ${f.error}`),
      [],
    );
    assert.ok(result.markersArrived, "the end markers arrived");
  });

  test("no message lost, none duplicated, order kept in every room and direction", () => {
    const { messages, unexpected, orderByRoom } = result.figures;
    assert.equal(messages.length, 100);
    const lost = messages.filter((m) => m.copies === 0).map((m) => `${m.body} (fault ${m.fault ?? "none"})`);
    const twice = messages.filter((m) => m.copies > 1).map((m) => `${m.body} ×${m.copies}`);
    assert.deepEqual(lost, [], "lost");
    assert.deepEqual(twice, [], "duplicated");
    assert.deepEqual(unexpected, [], "unexpected deliveries");
    assert.deepEqual(
      orderByRoom.filter((o) => !o.kept),
      [],
      "out of order",
    );
  });

  test("at most one state notice per outage", () => {
    for (const row of result.figures.rows) {
      for (const n of row.noticesPerOutage) assert.ok(n <= 1, `${row.label}: ${n} notices in one outage`);
    }
    const outside = result.figures.notices.filter((n) => n.fault === null).map((n) => n.body);
    assert.deepEqual(outside, [], "notices outside any outage");
  });
});
