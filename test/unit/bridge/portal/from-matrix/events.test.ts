// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  asRoomEvent,
  classifyEvent,
  type MatrixRoomEvent,
} from "../../../../../src/bridge/portal/matrix-event-kinds.js";
import { clientMessageIdFor, matrixTxnIdFor } from "../../../../../src/bridge/matrix/txn-ids.js";
import { roomEvent } from "./fakes.js";

const classify = (content: Record<string, unknown>, opts: Parameters<typeof roomEvent>[2] = {}) =>
  classifyEvent(asRoomEvent(roomEvent("$e", content, opts))!);

void test("Client-Message-IDs are deterministic positive 63-bit decimals, one per event", () => {
  const a = clientMessageIdFor("$event-a:example.org");
  assert.equal(a, clientMessageIdFor("$event-a:example.org"));
  assert.match(a, /^[1-9]\d{0,18}$/);
  assert.ok(BigInt(a) < 2n ** 63n);
  const many = new Set(Array.from({ length: 2000 }, (_, i) => clientMessageIdFor(`$e${i}`)));
  assert.equal(many.size, 2000);
  assert.notEqual(matrixTxnIdFor("fail", "$x"), matrixTxnIdFor("unsupported", "$x"));
  assert.match(matrixTxnIdFor("fail", "$x:y/z"), /^[A-Za-z0-9._-]+$/);
});

void test("text, notice, emote and unknown text msgtypes are sent", () => {
  assert.deepEqual(classify({ msgtype: "m.text", body: "hi" }), {
    kind: "send",
    content: { msgtype: "m.text", body: "hi" },
    notice: false,
  });
  assert.equal((classify({ msgtype: "m.notice", body: "bot says" }) as { notice: boolean }).notice, true);
  assert.equal(classify({ msgtype: "m.emote", body: "waves" }).kind, "send");
  assert.equal(classify({ msgtype: "org.example.custom", body: "still text" }).kind, "send");
  assert.equal(classify({ msgtype: "m.text" }).kind, "ignore");
  assert.equal(classify({ body: "no msgtype" }).kind, "ignore");
});

void test("edits and redactions name their target (content.redacts before redacts)", () => {
  const edit = {
    msgtype: "m.text",
    body: "* fixed",
    "m.new_content": { msgtype: "m.text", body: "fixed" },
    "m.relates_to": { rel_type: "m.replace", event_id: "$orig" },
  };
  assert.deepEqual(classify(edit), { kind: "edit", target: "$orig", content: edit });
  assert.deepEqual(classify({ redacts: "$v11" }, { type: "m.room.redaction", redacts: "$old" }), {
    kind: "redact",
    target: "$v11",
  });
  assert.deepEqual(classify({}, { type: "m.room.redaction", redacts: "$old" }), {
    kind: "redact",
    target: "$old",
  });
  assert.equal(classify({}, { type: "m.room.redaction" }).kind, "ignore");
  const imageEdit = classify({
    msgtype: "m.text",
    body: "* caption",
    "m.new_content": { msgtype: "m.image", body: "caption" },
    "m.relates_to": { rel_type: "m.replace", event_id: "$img" },
  });
  assert.equal(imageEdit.kind, "ignore", "an image edit without content replaces nothing");
  const replaced = classify({
    msgtype: "m.image",
    body: "* new.png",
    "m.new_content": { msgtype: "m.image", body: "new.png", url: "mxc://x/new" },
    "m.relates_to": { rel_type: "m.replace", event_id: "$img" },
  });
  assert.deepEqual(replaced, {
    kind: "media",
    media: { kind: "image", url: "mxc://x/new", name: "new.png", subject: "image" },
    target: "$img",
  });
});

void test("media, stickers and locations are sent; polls and encrypted events are answered as not bridged", () => {
  assert.deepEqual(
    classify({
      msgtype: "m.image",
      body: "cat.png",
      url: "mxc://x/y",
      info: { mimetype: "image/png", size: 3 },
    }),
    {
      kind: "media",
      media: {
        kind: "image",
        url: "mxc://x/y",
        name: "cat.png",
        subject: "image",
        mimetype: "image/png",
        size: 3,
      },
    },
  );
  for (const [msgtype, subject] of [
    ["m.file", "file"],
    ["m.video", "video"],
    ["m.audio", "audio message"],
  ]) {
    const sent = classify({ msgtype, body: "caption", filename: "x.bin", url: "mxc://x/z" });
    assert.deepEqual(sent, {
      kind: "media",
      media: { kind: "file", url: "mxc://x/z", name: "x.bin", subject },
    });
    assert.deepEqual(classify({ msgtype, body: "x" }), {
      kind: "unsupported",
      subject,
      reason: "it has no content.",
    });
    assert.deepEqual(classify({ msgtype, body: "x", file: { url: "mxc://x/e" } }), {
      kind: "unsupported",
      subject,
      reason: "the bridge cannot read encrypted files.",
    });
  }
  assert.deepEqual(classify({ msgtype: "m.location", body: "Here", geo_uri: "geo:51.5,-0.1" }), {
    kind: "send",
    content: { msgtype: "m.text", body: "Here (geo:51.5,-0.1)" },
    notice: false,
  });
  assert.equal((classify({ msgtype: "m.location", body: "x" }) as { subject: string }).subject, "location");
  assert.deepEqual(classify({ body: "s", url: "mxc://x/y" }, { type: "m.sticker" }), {
    kind: "media",
    media: { kind: "image", url: "mxc://x/y", name: "s", subject: "sticker" },
  });
  assert.equal(
    (
      classify(
        { "m.relates_to": { rel_type: "m.annotation", event_id: "$x", key: "👍" } },
        { type: "m.reaction" },
      ) as { subject: string }
    ).subject,
    "reaction",
  );
  assert.equal(
    (classify({}, { type: "org.matrix.msc3381.poll.start" }) as { subject: string }).subject,
    "poll",
  );
  assert.equal(
    classify({ algorithm: "m.megolm.v1.aes-sha2" }, { type: "m.room.encrypted" }).kind,
    "unsupported",
  );
  assert.equal(classify({ key: "👍" }, { type: "m.reaction" }).kind, "unsupported");
  assert.equal(classify({ name: "x" }, { type: "m.room.name", stateKey: "" }).kind, "ignore");
});

void test("malformed events are refused by asRoomEvent", () => {
  assert.equal(asRoomEvent(null), undefined);
  assert.equal(asRoomEvent("x"), undefined);
  assert.equal(
    asRoomEvent({ event_id: "$e", room_id: "!r", sender: "@a:b", type: "m.room.message" }),
    undefined,
  );
  assert.equal(
    asRoomEvent({ event_id: 1, room_id: "!r", sender: "@a:b", type: "t", content: {} }),
    undefined,
  );
  const ok = asRoomEvent(roomEvent("$e", { body: "x" })) as MatrixRoomEvent;
  assert.equal(ok.event_id, "$e");
});
