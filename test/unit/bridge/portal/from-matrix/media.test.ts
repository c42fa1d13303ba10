// SPDX-License-Identifier: Apache-2.0
// Matrix → Skype images and files through the durable outbox (outbox-media.ts): order, refusals, restarts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test, type TestContext } from "node:test";
import type { MatrixMedia } from "../../../../../src/bridge/matrix/media.js";
import { MatrixMediaError, MatrixMediaErrorCode } from "../../../../../src/bridge/matrix/media.js";
import { clientMessageIdFor } from "../../../../../src/bridge/matrix/txn-ids.js";
import type { OutgoingFile, UploadedMedia } from "../../../../../src/sessions/media.js";
import type { OutgoingMessage } from "../../../../../src/sessions/types.js";
import { ALICE, BOT, deferred, FakeSession, roomEvent, text, type Deferred } from "./fakes.js";
import { harness, type Harness } from "./setup.js";

const BOB = "8:live:bob_1";
const image = (url = "mxc://example.org/cat") => ({
  msgtype: "m.image",
  body: "cat.png",
  url,
  info: { mimetype: "image/png", size: 3 },
});

/** Alice's session, able to upload: uploads wait for the test when `hold` is set. */
class MediaSession extends FakeSession {
  readonly log: string[] = [];
  readonly uploads: { conversation: string; file: OutgoingFile; bytes: string }[] = [];
  readonly media: { conversation: string; uploaded: UploadedMedia; cmid?: string; editedId?: string }[] = [];
  hold?: Deferred;

  async uploadMedia(conversation: string, file: OutgoingFile): Promise<UploadedMedia> {
    const chunks: Buffer[] = [];
    for await (const c of file.body) chunks.push(c as Buffer);
    await this.hold?.promise;
    this.uploads.push({ conversation, file, bytes: Buffer.concat(chunks).toString() });
    const n = this.uploads.length;
    return {
      kind: file.kind,
      objectId: `obj${n}`,
      name: file.name,
      size: chunks.length,
      messageType: file.kind === "image" ? "RichText/UriObject" : "RichText/Media_GenericFile",
      xml: `<URIObject uri="x/obj${n}"/>`,
    };
  }

  sendMedia(
    conversation: string,
    uploaded: UploadedMedia,
    cmid?: string,
    editedId?: string,
  ): OutgoingMessage {
    this.log.push(`media ${uploaded.objectId}`);
    this.media.push({ conversation, uploaded, cmid, editedId });
    const delivery = deferred();
    if (this.autoDeliver) delivery.resolve();
    return { clientMessageId: cmid ?? "1", delivered: delivery.promise };
  }

  override sendText(conversation: string, body: string, cmid?: string): OutgoingMessage {
    this.log.push(`text ${body}`);
    return super.sendText(conversation, body, cmid);
  }
}

/** A harness whose session uploads, and whose homeserver media repository is a fake. */
function mediaHarness(
  t: TestContext,
  download: (url: string) => Promise<{ body: Readable; size?: number }>,
  opts: Parameters<typeof harness>[1] = {},
): { h: Harness; session: MediaSession } {
  const h = harness(t, { ...opts, connected: false });
  const session = new MediaSession();
  session.autoDeliver = opts.autoDeliver ?? true;
  const bridge = (h.m2s.outbox as unknown as { ctx: { media: MatrixMedia } }).ctx;
  bridge.media = { download: (_user: string, url: string) => download(url) } as unknown as MatrixMedia;
  h.sessions.add(session);
  session.connect();
  return { h, session };
}

const bytes = (s: string) => () => Promise.resolve({ body: Readable.from([Buffer.from(s)]), size: s.length });

void test("an image is downloaded, uploaded for the conversation and sent with its Client-Message-ID; a later text waits for it", async (t) => {
  const { h, session } = mediaHarness(t, bytes("PNG"));
  session.hold = deferred();
  await h.feed(roomEvent("$img", image()), roomEvent("$txt", text("after")));
  assert.deepEqual(session.log, [], "nothing goes out while the image uploads");
  session.hold.resolve();
  await h.settle();
  assert.deepEqual(session.log, ["media obj1", "text after"]);
  assert.equal(session.uploads[0]!.conversation, BOB);
  assert.equal(session.uploads[0]!.bytes, "PNG");
  assert.deepEqual(
    {
      kind: session.uploads[0]!.file.kind,
      name: session.uploads[0]!.file.name,
      type: session.uploads[0]!.file.contentType,
    },
    { kind: "image", name: "cat.png", type: "image/png" },
  );
  assert.equal(session.media[0]!.cmid, clientMessageIdFor("$img"));
  assert.deepEqual(h.store.outbox.list(), []);
  assert.equal(h.store.messages.getByEventId("$img")?.clientMessageId, clientMessageIdFor("$img"));
  // Replacing the image (m.replace with new media) uploads the new one and sends it as an edit of the first.
  await h.feed(
    roomEvent("$edit", {
      msgtype: "m.image",
      body: "* dog.png",
      "m.new_content": image("mxc://example.org/dog"),
      "m.relates_to": { rel_type: "m.replace", event_id: "$img" },
    }),
  );
  assert.equal(session.media.length, 2);
  assert.equal(session.media[1]!.cmid, clientMessageIdFor("$edit"));
  assert.equal(session.media[1]!.editedId, clientMessageIdFor("$img"));
  assert.equal(h.store.messages.getByEventId("$edit")?.editOf, h.store.messages.getByEventId("$img")?.id);
  // A redaction of the image deletes it on Skype as for text.
  await h.feed(roomEvent("$red", {}, { type: "m.room.redaction", redacts: "$img" }));
  const del = session.sent.find((s) => s.method === "deleteMessage");
  assert.deepEqual(del?.args, [clientMessageIdFor("$img")]);
});

void test("a file the homeserver no longer has, or one too large, is reported once and closed", async (t) => {
  const { h, session } = mediaHarness(t, (url) =>
    Promise.reject(
      url.endsWith("gone")
        ? new MatrixMediaError(MatrixMediaErrorCode.NotFound, "gone")
        : new MatrixMediaError(MatrixMediaErrorCode.TooLarge, "big"),
    ),
  );
  await h.feed(
    roomEvent("$a", image("mxc://example.org/gone")),
    roomEvent("$b", { ...image("mxc://example.org/big"), msgtype: "m.file", body: "big.iso" }),
  );
  assert.equal(session.media.length, 0);
  assert.deepEqual(h.store.outbox.list(), []);
  const notices = h.matrix.posted().map((p) => [p.userId, p.content.body]);
  assert.deepEqual(notices, [
    [BOT, "⚠️ Your image was not bridged: the homeserver no longer has its content."],
    [BOT, "⚠️ Your file was not bridged: it is larger than the 105 MB Skype takes."],
  ]);
});

void test("after a crash before Skype confirmed it, the file is uploaded again and sent with the same id", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "m2s-media-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "bridge.db");
  {
    const { h, session } = mediaHarness(t, bytes("DATA"), { path, autoDeliver: false });
    await h.feed(roomEvent("$f", { msgtype: "m.file", body: "a.txt", url: "mxc://example.org/a" }));
    assert.equal(session.media.length, 1);
    h.store.close(); // killed before any confirmation
  }
  const { h, session } = mediaHarness(t, bytes("DATA"), { path });
  await h.settle();
  assert.equal(session.uploads.length, 1, "uploaded again by the new run");
  assert.equal(session.media[0]!.cmid, clientMessageIdFor("$f"));
  assert.deepEqual(h.store.outbox.list(ALICE), []);
});
