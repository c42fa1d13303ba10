import { test } from "node:test";
import assert from "node:assert/strict";
import { buildMultipart, parseMultipart } from "../../../../src/skype/msnp/body.js";
import { cs64Response } from "../../../../src/skype/msnp/cs64.js";

const push = [
  "Routing: 1.0",
  "To: 8:live:alice_1",
  "From: 8:live:bob_1;epid={AAAA-1}",
  "",
  "Reliability: 1.0",
  "",
  "Messaging: 2.0",
  "message-id: 1431882693260",
  "Client-Message-ID: 42",
  "Message-Type: Text",
  "Original-Arrival-Time: 2015-05-18T20:15:31Z",
  "IM-Display-Name: Bob Ånström",
  "Content-Type: Text/plain; charset=UTF-8",
  "Content-Length: 8",
  "",
  "héllo!",
].join("\r\n");

test("multi-part body: Routing / Reliability / Messaging, case-insensitive, byte Content-Length", () => {
  const mm = parseMultipart(Buffer.from(push));
  assert.equal(mm.routing.get("to"), "8:live:alice_1");
  assert.equal(mm.routing.get("FROM"), "8:live:bob_1;epid={AAAA-1}");
  assert.equal(mm.reliability.get("Reliability"), "1.0");
  assert.equal(mm.contentKind, "Messaging");
  assert.equal(mm.content.get("Message-ID"), "1431882693260");
  assert.equal(mm.content.get("IM-Display-Name"), "Bob Ånström");
  assert.equal(mm.body.toString("utf8"), "héllo!");
  assert.equal(mm.lengthMismatch, true, "8 declared, 7 bytes present");
});

test("multi-part body: a missing Reliability block and a Content-Length shorter than the rest", () => {
  const mm = parseMultipart(
    Buffer.from(
      "Routing: 1.0\r\nTo: 8:a\r\n\r\nNotification: 1.0\r\nUri: /user\r\nContent-Length: 3\r\n\r\nabcdef",
    ),
  );
  assert.equal(mm.reliability.size, 0);
  assert.equal(mm.contentKind, "Notification");
  assert.equal(mm.content.get("uri"), "/user");
  assert.equal(mm.body.toString(), "abc");
});

test("multi-part body: build then parse round-trips; Content-Length is appended", () => {
  const buf = buildMultipart({
    routing: [
      ["Routing", "1.0"],
      ["To", "8:me"],
    ],
    content: [
      ["Publication", "1.0"],
      ["Uri", "/user"],
    ],
    body: "<user>ü</user>",
  });
  const text = buf.toString("utf8");
  assert.ok(text.includes("Content-Length: 15\r\n\r\n<user>ü</user>"));
  const mm = parseMultipart(buf);
  assert.equal(mm.contentKind, "Publication");
  assert.equal(mm.body.toString(), "<user>ü</user>");
  assert.equal(mm.lengthMismatch, false);
});

test("header values cannot inject lines", () => {
  const buf = buildMultipart({ routing: [["To", "8:a\r\nFrom: 8:evil"]], content: [["Messaging", "2.0"]] });
  const mm = parseMultipart(buf);
  assert.equal(mm.routing.get("From"), undefined);
});

test("CS64 challenge response (public MSNP11 vectors, Skype product id/key)", () => {
  assert.equal(cs64Response("22210219642164014968"), "85ecb0db8f32113df79ce0892b9a102c");
  assert.equal(cs64Response("36819795137093047918"), "e7ad3cb09d3e9e4e7c720175984809e9");
  assert.equal(cs64Response("21948129323261853323"), "59bcf63ed21f44906c3d3e121ddbed65");
  assert.match(cs64Response("{a1b2c3d4-0000-1111-2222-333344445555}"), /^[0-9a-f]{32}$/);
});

test("a content block named like an Object.prototype member has no kind", () => {
  for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
    const m = parseMultipart(Buffer.from(`Routing: 1.0\r\n\r\n${name}: x\r\n\r\nbody`));
    assert.equal(m.contentKind, undefined, name);
    assert.equal(m.content.get(name), "x");
    assert.equal(m.body.toString(), "body");
  }
  assert.equal(parseMultipart(Buffer.from("MESSAGING: 2.0\r\n\r\n")).contentKind, "Messaging");
});
