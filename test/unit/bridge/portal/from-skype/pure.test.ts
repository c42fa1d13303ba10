// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bridgeInfoEvents,
  functionalMembersEvent,
  serviceMembersOf,
} from "../../../../../src/bridge/matrix/bridge-info.js";
import { fallbackName } from "../../../../../src/bridge/ghosts/puppets.js";
import { matrixPresence } from "../../../../../src/bridge/ghosts/presence.js";
import {
  arrivalMs,
  describeSkypeType,
  editContent,
  foreignEditContent,
  isSilentType,
  unhandledNotice,
} from "../../../../../src/bridge/portal/skype-content.js";
import {
  isRetryableMatrixError,
  matrixErrorInfo,
  withRetry,
} from "../../../../../src/bridge/matrix/errors.js";
import { txnIdFor } from "../../../../../src/bridge/matrix/txn-ids.js";
import { FakeMatrixError } from "./fake-hs.js";

test("presence mapping: NLN online; AWY/IDL/BSY unavailable; HDN/FLN/unknown or no endpoint offline", () => {
  assert.equal(matrixPresence("NLN"), "online");
  for (const s of ["AWY", "IDL", "BSY", "bsy"]) assert.equal(matrixPresence(s), "unavailable");
  for (const s of ["HDN", "FLN", "XYZ", ""]) assert.equal(matrixPresence(s), "offline");
  assert.equal(matrixPresence("NLN", 0), "offline");
  assert.equal(fallbackName("8:live:bob_1"), "live:bob_1");
  assert.equal(fallbackName("1:bob@outlook.com"), "bob@outlook.com");
  assert.equal(fallbackName("junk"), "junk");
});

test("bridge info: both types, same key and content; functional members without duplicates", () => {
  const who = { botUserId: "@bot:hs", domain: "hs", appserviceId: "skype" };
  const [a, b] = bridgeInfoEvents(who, { id: "19:x@thread.skype", displayName: "Team", kind: "group" });
  assert.equal(a!.type, "m.bridge");
  assert.equal(b!.type, "uk.half-shot.bridge");
  assert.equal(a!.state_key, "hs/skype");
  assert.deepEqual(a!.content, b!.content);
  assert.deepEqual(a!.content, {
    bridgebot: "@bot:hs",
    creator: "@bot:hs",
    protocol: { id: "skype", displayname: "Skype" },
    channel: { id: "19:x@thread.skype", displayname: "Team" },
    "com.beeper.room_type": "group",
  });
  assert.deepEqual(functionalMembersEvent(["@a", "@b", "@a"]).content, { service_members: ["@a", "@b"] });
  assert.deepEqual(serviceMembersOf({ service_members: ["@a", 3, null] }), ["@a"]);
  assert.deepEqual(serviceMembersOf(undefined), []);
});

test("edit content: * fallback, full new content, top-level m.mentions {}", () => {
  const next = {
    msgtype: "m.text" as const,
    body: "hi @Alice",
    format: "org.matrix.custom.html" as const,
    formatted_body: 'hi <a href="https://matrix.to/#/@a:hs">Alice</a>',
    "m.mentions": { user_ids: ["@a:hs"] },
  };
  assert.deepEqual(editContent(next, "$orig"), {
    msgtype: "m.text",
    body: "* hi @Alice",
    format: "org.matrix.custom.html",
    formatted_body: '* hi <a href="https://matrix.to/#/@a:hs">Alice</a>',
    "m.new_content": next,
    "m.mentions": {},
    "m.relates_to": { rel_type: "m.replace", event_id: "$orig" },
  });
  const foreign = foreignEditContent({ msgtype: "m.text", body: "a < b", "m.mentions": {} }, "$orig");
  assert.equal(foreign.body, "(edited on Skype) a < b");
  assert.equal(foreign.formatted_body, "<em>(edited on Skype)</em> a &lt; b");
  assert.deepEqual(foreign["m.relates_to"], { "m.in_reply_to": { event_id: "$orig" } });
});

test("unsupported Skype types are named; control types are silent", () => {
  assert.equal(describeSkypeType("RichText/Media_GenericFile"), "a file");
  assert.equal(describeSkypeType("RichText/UriObject"), "an image");
  assert.equal(describeSkypeType("Event/Call"), "a call");
  assert.equal(describeSkypeType("Something/New"), "a message");
  assert.ok(isSilentType("Control/Typing"));
  assert.ok(isSilentType("ThreadActivity/AddMember"));
  assert.ok(!isSilentType("Nudge"));
  assert.deepEqual(unhandledNotice("Event/Call"), {
    msgtype: "m.notice",
    body: "Sent a call on Skype, which this bridge cannot show yet (Skype message type Event/Call).",
    "m.mentions": {},
  });
  assert.equal(arrivalMs("2024-05-01T10:00:00Z", 5), Date.parse("2024-05-01T10:00:00Z"));
  assert.equal(arrivalMs("garbage", 5), 5);
  assert.equal(arrivalMs(undefined, 7), 7);
});

test("txn ids are deterministic, distinct per input, and URL-safe", () => {
  const a = txnIdFor("msg", "@alice:hs", "8:live:bob_1", "m123", "0");
  assert.equal(a, txnIdFor("msg", "@alice:hs", "8:live:bob_1", "m123", "0"));
  assert.notEqual(a, txnIdFor("msg", "@carol:hs", "8:live:bob_1", "m123", "0"));
  assert.notEqual(a, txnIdFor("msg", "@alice:hs", "8:live:bob_1m123", "", "0"));
  assert.match(a, /^skype\.[0-9a-f]{40}$/);
});

test("retries: only network, 5xx and rate limits; at most as many as delays", async () => {
  assert.deepEqual(matrixErrorInfo(new FakeMatrixError(403, "M_FORBIDDEN", "x")), {
    status: 403,
    errcode: "M_FORBIDDEN",
  });
  assert.equal(isRetryableMatrixError(new FakeMatrixError(502, "M_UNKNOWN", "x")), true);
  assert.equal(isRetryableMatrixError(new FakeMatrixError(429, "M_LIMIT_EXCEEDED", "x")), true);
  assert.equal(isRetryableMatrixError(new FakeMatrixError(400, "M_BAD_JSON", "x")), false);
  assert.equal(isRetryableMatrixError(new Error("ECONNREFUSED")), true);
  const waits: number[] = [];
  const policy = { delaysMs: [5, 10], sleep: (ms: number) => (waits.push(ms), Promise.resolve()) };
  let calls = 0;
  await assert.rejects(
    withRetry(policy, () => {
      calls++;
      return Promise.reject(new FakeMatrixError(503, "M_UNKNOWN", "down"));
    }),
    /down/,
  );
  assert.equal(calls, 3);
  assert.deepEqual(waits, [5, 10]);
  calls = 0;
  await assert.rejects(
    withRetry(policy, () => {
      calls++;
      return Promise.reject(new FakeMatrixError(403, "M_FORBIDDEN", "no"));
    }),
  );
  assert.equal(calls, 1);
});
