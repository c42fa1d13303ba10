// SPDX-License-Identifier: Apache-2.0
// Skype → Matrix images and files (from-skype-media.ts): content built from a fake session and media repository.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { deflateSync, crc32 } from "node:zlib";
import type { MatrixMedia } from "../../../../../src/bridge/matrix/media.js";
import {
  handleMediaEdit,
  humanSize,
  mediaToMatrix,
} from "../../../../../src/bridge/portal/from-skype-media.js";
import type { Portal } from "../../../../../src/bridge/portal/portal.js";
import type { DownloadOptions } from "../../../../../src/sessions/media.js";
import type { EditEvent, Session } from "../../../../../src/sessions/types.js";
import type { MessageRow } from "../../../../../src/store/types.js";
import { SkypeErrorCode } from "../../../../../src/skype/errors.js";
import { MediaError } from "../../../../../src/skype/media/ams-client.js";
import { readMediaContent, writeUriObject } from "../../../../../src/skype/media/uri-object.js";

const AMS = "http://ams.test/ams";

function png(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 4 + 1) * h);
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

interface Views {
  full: Buffer | Error;
  thumb?: Buffer;
  contentType?: string;
}

/** A portal whose session serves `views` and whose homeserver stores uploads in memory. */
function portal(views: Views, limit = 1_000_000) {
  const uploads: { user: string; bytes: Buffer; contentType: string; filename?: string; size?: number }[] =
    [];
  const session = {
    downloadMedia: (_o: unknown, opts: DownloadOptions) => {
      const v = opts.thumbnail ? views.thumb : views.full;
      if (v instanceof Error) return Promise.reject(v);
      if (!v) return Promise.reject(new MediaError(SkypeErrorCode.MediaNotFound, "no thumbnail"));
      if (v.length > opts.maxBytes)
        return Promise.reject(new MediaError(SkypeErrorCode.MediaTooLarge, "big"));
      // Two chunks, so the peek and the rest both matter.
      const body = Readable.from([v.subarray(0, 10), v.subarray(10)]);
      return Promise.resolve({ body, size: v.length, contentType: views.contentType });
    },
    mediaStatus: () =>
      Promise.resolve({
        viewState: "ready",
        contentLength: views.thumb?.length ?? (views.full as Buffer).length,
      }),
  } as unknown as Session;
  const media = {
    uploadLimit: () => Promise.resolve(limit),
    async upload(
      user: string,
      body: Readable,
      meta: { contentType: string; filename?: string; size?: number },
    ) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      uploads.push({ user, bytes: Buffer.concat(chunks), ...meta });
      return `mxc://hs/${uploads.length}`;
    },
  } as unknown as MatrixMedia;
  const p = {
    receiver: "@alice:hs",
    bridge: { sessions: { get: () => session }, media },
  } as unknown as Portal;
  return { p, uploads };
}

const message = (kind: "image" | "file", name: string, size: number) =>
  readMediaContent(
    writeUriObject({ kind, ams: AMS, objectId: "0-weu-d1-abc", name, size }),
    kind === "image" ? "RichText/UriObject" : "RichText/Media_GenericFile",
  );

void test("an image with a distinct thumbnail: m.image with type, size, dimensions and thumbnail", async () => {
  const full = png(64, 48);
  const thumb = png(16, 12);
  const { p, uploads } = portal({ full, thumb, contentType: "application/octet-stream" });
  const content = await mediaToMatrix(p, message("image", "cat.png", full.length), "@puppet:hs");
  assert.deepEqual(content, {
    msgtype: "m.image",
    body: "cat.png",
    filename: "cat.png",
    url: "mxc://hs/1",
    info: {
      mimetype: "image/png",
      size: full.length,
      w: 64,
      h: 48,
      thumbnail_url: "mxc://hs/2",
      thumbnail_info: { mimetype: "image/png", size: thumb.length, w: 16, h: 12 },
    },
    "m.mentions": {},
  });
  assert.deepEqual(uploads[0]!.bytes, full);
  assert.equal(uploads[0]!.contentType, "image/png", "the sniffed type, not the generic one served");
  assert.equal(uploads[0]!.user, "@puppet:hs");
  assert.equal(uploads[0]!.filename, "cat.png");
});

void test("a file: m.file with the served type; broken image bytes go as m.file", async () => {
  const bytes = Buffer.from("%PDF-1.4 lorem ipsum dolor sit amet");
  const file = portal({ full: bytes, contentType: "application/pdf" });
  const c = await mediaToMatrix(file.p, message("file", "doc.pdf", bytes.length), "@puppet:hs");
  assert.equal(c.msgtype, "m.file");
  assert.deepEqual(c.info, { mimetype: "application/pdf", size: bytes.length });
  const broken = portal({ full: Buffer.from("definitely not a PNG at all") });
  const b = await mediaToMatrix(broken.p, message("image", "x.png", 27), "@puppet:hs");
  assert.equal(b.msgtype, "m.file");
  assert.equal(
    (b.info as { mimetype: string }).mimetype,
    "image/png",
    "from the name, the bytes said nothing",
  );
});

void test("failures become notices that say what and why", async () => {
  const cases: [Views | undefined, number, string][] = [
    [
      { full: Buffer.alloc(10) },
      5_000_000,
      'Sent a file ("big.iso") on Skype, which did not come through: it is too large (5.0 MB; this Matrix server takes at most 1.0 MB).',
    ],
    [
      { full: new MediaError(SkypeErrorCode.MediaNotFound, "x") },
      1,
      'Sent a file ("big.iso") on Skype, which did not come through: Skype no longer has it.',
    ],
    [
      { full: new MediaError(SkypeErrorCode.MediaForbidden, "x") },
      1,
      'Sent a file ("big.iso") on Skype, which did not come through: Skype does not let this account open it.',
    ],
    [
      { full: new MediaError(SkypeErrorCode.MediaNotReady, "x") },
      1,
      'Sent a file ("big.iso") on Skype, which did not come through: Skype did not have it ready in time.',
    ],
    [
      { full: new MediaError(SkypeErrorCode.MediaForeignHost, "x") },
      1,
      'Sent a file ("big.iso") on Skype, which did not come through: it is stored on a server other than the configured Skype object service, so the bridge did not fetch it.',
    ],
    [
      { full: Buffer.alloc(2_000_000) },
      1,
      'Sent a file ("big.iso") on Skype, which did not come through: it is too large (this Matrix server takes at most 1.0 MB).',
    ],
  ];
  for (const [views, size, body] of cases) {
    const { p, uploads } = portal(views!);
    const c = await mediaToMatrix(p, message("file", "big.iso", size), "@puppet:hs");
    assert.deepEqual(c, { msgtype: "m.notice", body, "m.mentions": {} });
    assert.equal(uploads.length, 0);
  }
  const unreadable = await mediaToMatrix(
    portal({ full: Buffer.alloc(1) }).p,
    readMediaContent("<x/>", "RichText/UriObject"),
    "@p:hs",
  );
  assert.equal(
    unreadable.body,
    "Sent a file on Skype, which did not come through: the bridge could not read the message.",
  );
  assert.equal(humanSize(999), "999 bytes");
  assert.equal(humanSize(1), "1 byte");
  assert.equal(humanSize(1536), "1.5 KB");
  assert.equal(humanSize(104_857_600), "105 MB");
});

void test("a media edit replaces the original as whoever posted it; the user's own from Matrix gets a reply unless double-puppeted", async () => {
  const bytes = png(4, 3);
  const edit = {
    conversation: "8:live:bob_1",
    sender: "8:live:bob_1",
    clientMessageId: "2",
    editedId: "1",
    messageId: "12",
    arrivalTime: "2026-12-05T00:00:05.000Z",
    media: message("image", "new.png", bytes.length),
  } as unknown as EditEvent;
  const run = async (direction: "to_matrix" | "to_skype", double: boolean) => {
    const { p } = portal({ full: bytes });
    const sent: { sender: string; content: Record<string, unknown>; ts: number }[] = [];
    const inserted: unknown[] = [];
    let cursor = 0;
    Object.assign(p, {
      txnFor: () => "txn",
      puppetOf: () => Promise.resolve({ mxid: "@skype_bob:hs" }),
      speaker: () => Promise.resolve({ mxid: double ? "@alice:hs" : "@skype_alice:hs", self: true, double }),
      sendAs: (sender: string, _room: string, content: Record<string, unknown>, _txn: string, ts: number) => {
        sent.push({ sender, content, ts });
        return Promise.resolve("$edit");
      },
      advanceCursor: () => cursor++,
    });
    Object.assign((p as unknown as { bridge: object }).bridge, {
      now: () => 0,
      config: { encryption: { enabled: false } },
      metrics: { skypeDelivered: () => undefined },
      store: { messages: { latestEdit: () => undefined, insert: (r: unknown) => inserted.push(r) } },
    });
    const original = {
      id: 7,
      roomId: "!dm:hs",
      eventId: "$orig",
      direction,
      sender: "8:live:bob_1",
      sentTs: 10,
    };
    await handleMediaEdit(p, edit, edit.media!, original as unknown as MessageRow);
    assert.equal(sent.length, 1);
    assert.equal(inserted.length, 1, "the edit is recorded");
    assert.equal(cursor, 1, "and the cursor moves past it");
    assert.ok(sent[0]!.ts > 10, "stamped after the original");
    return sent[0]!;
  };
  const byPuppet = await run("to_matrix", false);
  assert.equal(byPuppet.sender, "@skype_bob:hs");
  assert.deepEqual(byPuppet.content["m.relates_to"], { rel_type: "m.replace", event_id: "$orig" });
  assert.equal((byPuppet.content["m.new_content"] as { msgtype?: string }).msgtype, "m.image");

  const asUser = await run("to_skype", true);
  assert.equal(asUser.sender, "@alice:hs");
  assert.deepEqual(asUser.content["m.relates_to"], { rel_type: "m.replace", event_id: "$orig" });

  const ownPuppet = await run("to_skype", false);
  assert.equal(ownPuppet.sender, "@skype_alice:hs");
  assert.deepEqual(ownPuppet.content["m.relates_to"], { "m.in_reply_to": { event_id: "$orig" } });
  assert.equal(ownPuppet.content.msgtype, "m.image");
});
