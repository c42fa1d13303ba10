// SPDX-License-Identifier: Apache-2.0
// History on a first link (PROFILE §5 "History"): which conversations are read back, and only the
// newest messages of each, over MESSAGESBYCONVERSATION's newest-first pages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planHistory, readConversation } from "../../../../src/skype/msnp/catchup.js";
import { SelfIdentity } from "../../../../src/skype/msnp/identity.js";
import { MsnpHeaders } from "../../../../src/skype/msnp/headers.js";
import type { Frame } from "../../../../src/skype/msnp/framing.js";
import { silentLogger } from "../../../../src/skype/log.js";

void test("planHistory: the N most recent conversations without a cursor, newest first", () => {
  const recent = [
    { id: "8:old", lastMessageId: "100" },
    { id: "8:newest", lastMessageId: "900" },
    { id: "19:abc@thread.skype", lastMessageId: "500" },
    { id: "8:seen", lastMessageId: "950" },
    { id: "8:empty" },
  ];
  const cursors = new Map([["8:seen", "950"]]);
  assert.deepEqual(planHistory(recent, cursors, 2), ["8:newest", "19:abc@thread.skype"]);
  assert.deepEqual(planHistory(recent, cursors, 10), ["8:newest", "19:abc@thread.skype", "8:old", "8:empty"]);
  assert.deepEqual(planHistory(recent, cursors, 0), []);
});

/** A server of one conversation holding messages 1..total, pages newest first. */
function pagedServer(total: number): {
  get: (type: string, body: string) => Promise<Frame>;
  asked: string[];
} {
  const asked: string[] = [];
  const get = (_type: string, body: string): Promise<Frame> => {
    asked.push(body);
    const size = Number(/<pagesize>(\d+)</.exec(body)?.[1]);
    const before = Number(/<messagessyncstate>(\d+)</.exec(body)?.[1] ?? total + 1);
    const ids = Array.from({ length: total }, (_, i) => total - i).filter((id) => id < before);
    const page = ids.slice(0, size);
    const more = ids.length > size;
    const messages = page
      .map(
        (id) =>
          `<message><id>${id}</id><from>8:bob</from><to>8:alice</to><messagetype>Text</messagetype>` +
          `<content>m${id}</content><originalarrivaltime>2026-01-01T00:00:00Z</originalarrivaltime></message>`,
      )
      .join("");
    const xml =
      `<messagesbyconversation-response><id>8:bob</id><hasmore>${more}</hasmore>` +
      `<messagessyncstate>${page.at(-1) ?? ""}</messagessyncstate><messages>${messages}</messages>` +
      `</messagesbyconversation-response>`;
    const frame = {
      command: "GET",
      trid: 1,
      type: "MSGR",
      headers: new MsnpHeaders(),
      body: Buffer.from(xml),
    };
    return Promise.resolve(frame as unknown as Frame);
  };
  return { get, asked };
}

void test("readConversation with a limit reads only the newest messages, across pages", async () => {
  const server = pagedServer(30);
  const deps = {
    get: server.get,
    self: new SelfIdentity("alice@x.com", "live:alice"),
    pageSize: 4,
    logger: silentLogger,
  };
  const got = await readConversation(deps, "8:bob", "0", 10);
  assert.deepEqual(
    got.map((m) => m.content),
    ["m30", "m29", "m28", "m27", "m26", "m25", "m24", "m23", "m22", "m21"],
  );
  assert.equal(server.asked.length, 3, "three pages of four, then stop");
  const small = pagedServer(30);
  await readConversation({ ...deps, get: small.get, pageSize: 100 }, "8:bob", "0", 3);
  assert.match(small.asked[0]!, /<pagesize>3</, "a page no larger than the limit");
  assert.equal(small.asked.length, 1);
});
