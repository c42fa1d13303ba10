import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMultipart } from "../../../../src/skype/msnp/body.js";
import { SelfIdentity } from "../../../../src/skype/msnp/identity.js";
import {
  buildSdgBody,
  codePointLength,
  newClientMessageId,
  parseEmoteOffset,
  rawFromPush,
  stripEmotePrefix,
} from "../../../../src/skype/msnp/messages.js";

const alice = { mri: "8:live:alice_1", epid: "e1", displayName: "Zoë 😀 Ånström" };
const self = new SelfIdentity("alice@hotmail.co.uk", "live:alice_1");

test("/me: offset in code points of a non-ASCII display name, and back", () => {
  assert.equal(codePointLength("Zoë 😀 Ånström"), 13);
  assert.equal("Zoë 😀 Ånström".length, 14, "UTF-16 would be wrong");
  const mm = parseMultipart(buildSdgBody("8:live:bob_1", alice, { kind: "emote", text: "waves 👋" }, "1"));
  assert.equal(mm.content.get("Skype-EmoteOffset"), "13");
  assert.equal(mm.body.toString("utf8"), "Zoë 😀 Ånström waves 👋");
  assert.equal(stripEmotePrefix(mm.body.toString("utf8"), 13), "waves 👋");
});

test("emote offset: number or quoted string; one leading space dropped", () => {
  assert.equal(parseEmoteOffset("5"), 5);
  assert.equal(parseEmoteOffset('"5"'), 5);
  assert.equal(parseEmoteOffset(" 5 "), 5);
  assert.equal(parseEmoteOffset("x"), undefined);
  assert.equal(parseEmoteOffset(undefined), undefined);
  assert.equal(stripEmotePrefix("Alice  jumps", 5), " jumps");
  assert.equal(stripEmotePrefix("Alicejumps", 5), "jumps");
  assert.equal(stripEmotePrefix("Al", 5), "");
});

test("edits, deletes, rich text and typing", () => {
  const edit = parseMultipart(
    buildSdgBody(
      "19:ab@thread.skype",
      alice,
      { kind: "edit", editedId: "77", text: "fixed", format: "text" },
      "78",
    ),
  );
  assert.equal(edit.content.get("Skype-EditedId"), "77");
  assert.equal(edit.content.get("Client-Message-ID"), "78");
  assert.equal(edit.body.toString(), "fixed");
  const del = parseMultipart(
    buildSdgBody("8:b", alice, { kind: "delete", editedId: "77", format: "text" }, "79"),
  );
  assert.equal(del.content.get("Skype-EditedId"), "77");
  assert.equal(del.content.get("Content-Length"), "0");
  assert.equal(del.body.length, 0);
  const rich = parseMultipart(
    buildSdgBody("8:b", alice, { kind: "richtext", html: "<b>a &amp; b</b>" }, "80"),
  );
  assert.equal(rich.content.get("Message-Type"), "RichText");
  assert.equal(rich.content.get("Content-Type"), "application/user+xml");
  const typing = parseMultipart(buildSdgBody("8:b", alice, { kind: "typing", typing: false }));
  assert.equal(typing.content.get("Message-Type"), "Control/ClearTyping");
  assert.equal(typing.content.get("Client-Message-ID"), undefined);
  assert.equal(typing.body.length, 0);
});

test("received pushes: conversation keys per PROFILE §5 and fromMe", () => {
  const fromBob = parseMultipart(
    Buffer.from(
      "Routing: 1.0\r\nTo: 1:alice@hotmail.co.uk\r\nFrom: 1:bob@outlook.com;epid={E-9}\r\n\r\nReliability: 1.0\r\n\r\n" +
        "Messaging: 2.0\r\nMessage-ID: 100\r\nClient-Message-ID: 5\r\nMessage-Type: Text\r\nContent-Length: 2\r\n\r\nhi",
    ),
  );
  const raw = rawFromPush(fromBob, self)!;
  assert.equal(raw.conversation, "1:bob@outlook.com", "keyed by the identity exactly as on the wire");
  assert.equal(raw.fromEpid, "e-9");
  assert.equal(raw.fromMe, false);
  const mine = parseMultipart(
    Buffer.from(
      "Routing: 1.0\r\nTo: 8:live:bob_1\r\nFrom: 1:ALICE@hotmail.co.uk;epid={x}\r\n\r\nMessaging: 2.0\r\n\r\nyo",
    ),
  );
  const raw2 = rawFromPush(mine, self)!;
  assert.equal(raw2.fromMe, true);
  assert.equal(raw2.conversation, "8:live:bob_1");
  const thread = parseMultipart(
    Buffer.from(
      "Routing: 1.0\r\nTo: 19:abc@thread.skype\r\nFrom: 8:live:bob_1;epid={x}\r\n\r\nMessaging: 2.0\r\n\r\nyo",
    ),
  );
  assert.equal(rawFromPush(thread, self)!.conversation, "19:abc@thread.skype");
});

test("generated Client-Message-IDs are decimal and distinct", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newClientMessageId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^\d+$/);
});

test("an edited /me keeps the name prefix and its code-point offset", () => {
  const mm = parseMultipart(
    buildSdgBody(
      "8:live:bob_1",
      alice,
      { kind: "edit", editedId: "42", text: "waves again", format: "text", emote: true },
      "2",
    ),
  );
  assert.equal(mm.content.get("Skype-EditedId"), "42");
  assert.equal(mm.content.get("Skype-EmoteOffset"), "13");
  assert.equal(mm.body.toString("utf8"), "Zoë 😀 Ånström waves again");
  const plain = parseMultipart(
    buildSdgBody("8:live:bob_1", alice, { kind: "edit", editedId: "42", text: "fixed", format: "text" }, "3"),
  );
  assert.equal(plain.content.get("Skype-EmoteOffset"), undefined);
  assert.equal(plain.body.toString("utf8"), "fixed");
});
