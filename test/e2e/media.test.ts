// SPDX-License-Identifier: Apache-2.0
/**
 * Images and files both ways (PROFILE §7), against a real Synapse, the bridge process and the
 * reference server's object service: what arrives is byte for byte what was sent (SHA-256 of the
 * mxc content for Skype → Matrix, of the object the bridge uploaded for Matrix → Skype), and every
 * bad input — too large, missing, never ready, off the object service, broken bytes, hostile XML —
 * ends in a clear notice or a fallback in the room, with nothing lost and the bridge still running.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { ControlClient, type ControlMediaObject } from "./harness/control.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { roomHistory } from "./harness/room-history.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

const sha = (b: Buffer | Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** A valid RGBA PNG of `w`×`h` pixels with random content (so it is not tiny once compressed). */
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
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) rows.push(Buffer.concat([Buffer.from([0]), randomBytes(w * 4)]));
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A local HTTP server that records the headers of every request it gets (a "foreign" object host). */
async function recorder(): Promise<{ server: Server; url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { "content-type": "image/png" }).end(png(2, 2));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, seen };
}

describe("images and files both ways", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let control: ControlClient;
  let dm: string;
  let bob: string;
  let foreign: Awaited<ReturnType<typeof recorder>>;

  /** The human's authenticated download of an mxc URI from Synapse. */
  async function download(mxc: string): Promise<Buffer> {
    const m = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc);
    assert.ok(m, `an mxc URI: ${mxc}`);
    const res = await fetch(`${env.synapse.url}/_matrix/client/v1/media/download/${m[1]}/${m[2]}`, {
      headers: { authorization: `Bearer ${human.accessToken}` },
    });
    assert.equal(res.status, 200, `downloading ${mxc}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Waits for the next message from Bob's puppet after `count` of them. */
  async function bobsMessage(count: number, what: string): Promise<RoomEvent> {
    return waitFor(() => human.messagesIn(dm).filter((e) => e.sender === bob)[count], {
      what,
      timeoutMs: 60_000,
    });
  }

  const bobCount = (): number => human.messagesIn(dm).filter((e) => e.sender === bob).length;

  /** Messages alice's bridge sent to Bob on Skype, as the server stored them. */
  async function toBob(): Promise<
    { messageType: string; content: string; editedId?: string; clientMessageId?: string }[]
  > {
    return (await control.messages({ user: "alice@hotmail.co.uk" })).filter(
      (m) => m.from === ALICE_SKYPE && m.to === BOB && !m.messageType.toLowerCase().startsWith("control/"),
    );
  }

  /** The object a URIObject body points at, as the object service holds it. */
  async function objectOf(body: string): Promise<ControlMediaObject> {
    const id = /\/v1\/objects\/([^"/]+)"/.exec(body)?.[1];
    assert.ok(id, "an object id in the URIObject");
    const obj = await control.mediaGetObject(decodeURIComponent(id));
    assert.ok(obj, "the object exists");
    return obj;
  }

  before(async () => {
    foreign = await recorder();
    // A small upload limit, so "too large" needs only a few megabytes.
    env = await E2EEnv.create({ synapse: { max_upload_size: "2M" } });
    control = new ControlClient(env.skype.controlUrl);
    human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "files coming" });
    dm = await human.waitForInvite((_r, e) => e.content.is_direct === true && /bob/.test(e.sender), "the DM");
    bob = human.invites.find((i) => i.roomId === dm)!.event.sender;
    await human.joinRoom(dm);
    await bobsMessage(0, "Bob's first message");
  });
  after(async () => {
    await env?.close();
    foreign?.server.close();
  });

  test("Skype → Matrix: an image arrives as m.image, byte for byte, with its size, dimensions and thumbnail", async () => {
    const image = png(64, 48);
    const thumb = png(16, 12);
    const n = bobCount();
    const sent = await control.mediaSend({
      from: BOB,
      to: ALICE_SKYPE,
      kind: "image",
      name: "cat.png",
      content: image,
      mime: "image/png",
      thumbnail: thumb,
    });
    const ev = await bobsMessage(n, "the image");
    assert.equal(ev.content.msgtype, "m.image");
    assert.equal(ev.content.body, "cat.png");
    const info = ev.content.info as Record<string, unknown>;
    assert.equal(info.mimetype, "image/png");
    assert.equal(info.size, image.length);
    assert.equal(info.w, 64);
    assert.equal(info.h, 48);
    assert.equal(sha(await download(String(ev.content.url))), sha(image));
    assert.equal(typeof info.thumbnail_url, "string", "Skype's distinct imgt1 became the thumbnail");
    assert.equal(sha(await download(String(info.thumbnail_url))), sha(thumb));
    assert.deepEqual((info.thumbnail_info as Record<string, unknown>).w, 16);
    // Bob deletes it on Skype: the image is redacted, as a text would be.
    env.skype.msnp.deleteMessage({ from: BOB, to: ALICE_SKYPE, editedId: sent.clientMessageId });
    await human.waitForEvent(
      (e) =>
        e.room_id === dm &&
        e.type === "m.room.redaction" &&
        ((e as { redacts?: string }).redacts === ev.event_id || e.content.redacts === ev.event_id),
      "the image's redaction",
    );
  });

  test("Skype → Matrix: a file arrives as m.file with its name, byte for byte", async () => {
    const bytes = randomBytes(1_500_000);
    const n = bobCount();
    await control.mediaSend({
      from: BOB,
      to: ALICE_SKYPE,
      kind: "file",
      name: "report 2024.bin",
      content: bytes,
    });
    const ev = await bobsMessage(n, "the file");
    assert.equal(ev.content.msgtype, "m.file");
    assert.equal(ev.content.body, "report 2024.bin");
    assert.equal(ev.content.filename, "report 2024.bin");
    assert.equal((ev.content.info as Record<string, unknown>).size, bytes.length);
    assert.equal(sha(await download(String(ev.content.url))), sha(bytes));
  });

  test("Skype → Matrix: a file sent while the bridge was killed arrives once after the restart (catch-up)", async () => {
    await env.stopBridge("SIGKILL");
    const bytes = randomBytes(300_000);
    const n = bobCount();
    await control.mediaSend({
      from: BOB,
      to: ALICE_SKYPE,
      kind: "file",
      name: "while-away.bin",
      content: bytes,
    });
    await env.startBridge();
    const ev = await bobsMessage(n, "the file after the restart");
    assert.equal(ev.content.body, "while-away.bin");
    assert.equal(sha(await download(String(ev.content.url))), sha(bytes));
    // Positive signal that catch-up finished: a later text arrives, and the file is there once.
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "back" });
    await bobsMessage(n + 1, "the text after the file");
    const stored = (await roomHistory(human, dm)).filter((e) => e.content.body === "while-away.bin");
    assert.equal(stored.length, 1);
  });

  test("Skype → Matrix: an object over the homeserver's limit becomes a notice with its name, size and why", async () => {
    const n = bobCount();
    await control.mediaSend({
      from: BOB,
      to: ALICE_SKYPE,
      kind: "file",
      name: "huge.iso",
      content: randomBytes(3_000_000),
    });
    const ev = await bobsMessage(n, "the too-large notice");
    assert.equal(ev.content.msgtype, "m.notice");
    assert.equal(
      ev.content.body,
      'Sent a file ("huge.iso") on Skype, which did not come through: it is too large (3.0 MB; this Matrix server takes at most 2.1 MB).',
    );
  });

  test("Matrix → Skype: an image and a file reach the object service byte for byte, readable by Bob", async () => {
    const image = png(40, 30);
    const imageMxc = await human.uploadContent(image, "image/png", "dog.png");
    const before = (await toBob()).length;
    await human.sendMessage(dm, {
      msgtype: "m.image",
      body: "dog.png",
      url: imageMxc,
      info: { mimetype: "image/png", size: image.length, w: 40, h: 30 },
    });
    const sentImage = await waitFor(async () => (await toBob())[before], {
      what: "the image on Skype",
      timeoutMs: 60_000,
    });
    assert.equal(sentImage.messageType, "RichText/UriObject");
    assert.match(
      sentImage.content,
      /^<URIObject type="Picture\.1" uri="[^"]+\/v1\/objects\/[^"]+" url_thumbnail="[^"]+\/views\/imgt1">/,
    );
    assert.match(
      sentImage.content,
      /<OriginalName v="dog\.png"\/><FileSize v="\d+"\/><meta type="photo" originalName="dog\.png"\/><\/URIObject>$/,
    );
    const imgObj = await objectOf(sentImage.content);
    assert.equal(imgObj.type, "pish/image");
    assert.deepEqual(imgObj.permissions, { [BOB]: ["read"] });
    assert.equal(sha(Buffer.from(imgObj.contentBase64!, "base64")), sha(image));

    const bytes = randomBytes(800_000);
    const fileMxc = await human.uploadContent(bytes, "application/octet-stream", "notes & <plans>.bin");
    await human.sendMessage(dm, {
      msgtype: "m.file",
      body: "notes & <plans>.bin",
      url: fileMxc,
      info: { size: bytes.length },
    });
    const sentFile = await waitFor(async () => (await toBob())[before + 1], {
      what: "the file on Skype",
      timeoutMs: 60_000,
    });
    assert.equal(sentFile.messageType, "RichText/Media_GenericFile");
    assert.match(sentFile.content, /<Title>Title: notes &amp; &lt;plans&gt;\.bin<\/Title>/);
    const fileObj = await objectOf(sentFile.content);
    assert.equal(fileObj.type, "sharing/file");
    assert.equal(fileObj.filename, "notes & <plans>.bin");
    assert.equal(sha(Buffer.from(fileObj.contentBase64!, "base64")), sha(bytes));

    // A text sent right after a file arrives after it (the upload holds it back); replacing the image
    // sends the new one as an edit of it; a redaction of the image deletes it on Skype as for text.
    const imageEvent = human.messagesIn(dm).find((e) => e.content.url === imageMxc)!;
    await human.sendMessage(dm, { msgtype: "m.text", body: "that was all" });
    const image2 = png(20, 10);
    const image2Mxc = await human.uploadContent(image2, "image/png", "dog2.png");
    await human.sendMessage(dm, {
      msgtype: "m.image",
      body: "* dog2.png",
      url: image2Mxc,
      "m.new_content": {
        msgtype: "m.image",
        body: "dog2.png",
        url: image2Mxc,
        info: { mimetype: "image/png" },
      },
      "m.relates_to": { rel_type: "m.replace", event_id: imageEvent.event_id },
    });
    await human.redactEvent(dm, imageEvent.event_id);
    const rest = await waitFor(
      async () => ((await toBob()).length >= before + 5 ? (await toBob()).slice(before + 2) : undefined),
      { what: "the text, the replaced image and the deletion on Skype", timeoutMs: 60_000 },
    );
    assert.equal(rest[0]!.content, "that was all");
    assert.equal(rest[1]!.messageType, "RichText/UriObject");
    assert.equal(rest[1]!.editedId, sentImage.clientMessageId);
    assert.match(rest[1]!.content, /<OriginalName v="dog2\.png"\/>/);
    assert.equal(sha(Buffer.from((await objectOf(rest[1]!.content)).contentBase64!, "base64")), sha(image2));
    assert.equal(rest[2]!.editedId, sentImage.clientMessageId);
    assert.equal(rest[2]!.content, "");
  });

  test("a URIObject on another host: the token is never sent there, the room gets a notice", async () => {
    const n = bobCount();
    await control.sendRaw({
      from: BOB,
      to: ALICE_SKYPE,
      messageType: "RichText/UriObject",
      contentType: "application/user+xml",
      body: `<URIObject type="Picture.1" uri="${foreign.url}/ams/v1/objects/0-weu-d1-aaaa" url_thumbnail="${foreign.url}/ams/v1/objects/0-weu-d1-aaaa/views/imgt1">x<OriginalName v="trap.png"/><FileSize v="10"/></URIObject>`,
    });
    const ev = await bobsMessage(n, "the foreign-host notice");
    assert.equal(
      ev.content.body,
      'Sent an image ("trap.png") on Skype, which did not come through: it is stored on a server other than the configured Skype object service, so the bridge did not fetch it.',
    );
    // The notice is posted only after the decision not to fetch: by then a fetch would have happened.
    assert.equal(foreign.seen.length, 0, "no request reached the other host");
  });

  test("a missing object, one never ready, broken image bytes and hostile XML: a notice or a fallback each", async () => {
    const cases: [() => Promise<unknown>, (e: RoomEvent) => void][] = [
      [
        () =>
          control.sendRaw({
            from: BOB,
            to: ALICE_SKYPE,
            messageType: "RichText/Media_GenericFile",
            contentType: "application/user+xml",
            body: `<URIObject type="File.1" uri="${env.skype.endpoints.ams}/v1/objects/0-weu-d1-00000000000000000000000000000000"><OriginalName v="gone.txt"/></URIObject>`,
          }),
        (e) =>
          assert.equal(
            e.content.body,
            'Sent a file ("gone.txt") on Skype, which did not come through: Skype no longer has it.',
          ),
      ],
      [
        async () => {
          const obj = await control.mediaObject({
            owner: BOB,
            type: "sharing/file",
            filename: "later.txt",
            permissions: [ALICE_SKYPE],
          });
          return control.sendRaw({
            from: BOB,
            to: ALICE_SKYPE,
            messageType: "RichText/Media_GenericFile",
            contentType: "application/user+xml",
            body: `<URIObject type="File.1" uri="${obj.uri}"><OriginalName v="later.txt"/></URIObject>`,
          });
        },
        (e) =>
          assert.equal(
            e.content.body,
            'Sent a file ("later.txt") on Skype, which did not come through: Skype did not have it ready in time.',
          ),
      ],
      [
        // No FileSize to warn: the download's own length stops it before anything reaches Synapse.
        async () => {
          const obj = await control.mediaObject({
            owner: BOB,
            type: "sharing/file",
            filename: "nosize.bin",
            permissions: [ALICE_SKYPE],
            content: randomBytes(3_000_000),
          });
          return control.sendRaw({
            from: BOB,
            to: ALICE_SKYPE,
            messageType: "RichText/Media_GenericFile",
            contentType: "application/user+xml",
            body: `<URIObject type="File.1" uri="${obj.uri}"><OriginalName v="nosize.bin"/></URIObject>`,
          });
        },
        (e) =>
          assert.equal(
            e.content.body,
            'Sent a file ("nosize.bin") on Skype, which did not come through: it is too large (this Matrix server takes at most 2.1 MB).',
          ),
      ],
      [
        () =>
          control.mediaSend({
            from: BOB,
            to: ALICE_SKYPE,
            kind: "image",
            name: "broken.png",
            content: Buffer.from("definitely not a PNG"),
          }),
        (e) => {
          assert.equal(e.content.msgtype, "m.file", "an image that is no image goes as a file");
          assert.equal(e.content.body, "broken.png");
        },
      ],
      [
        () =>
          control.sendRaw({
            from: BOB,
            to: ALICE_SKYPE,
            messageType: "RichText/UriObject",
            contentType: "application/user+xml",
            body: `<!DOCTYPE x [<!ENTITY a "${"a".repeat(50)}">]><URIObject uri="&a;">&a;&a;&a;</URIObject>`,
          }),
        (e) =>
          assert.equal(
            e.content.body,
            "Sent a file on Skype, which did not come through: the bridge could not read the message.",
          ),
      ],
    ];
    for (const [send, check] of cases) {
      const n = bobCount();
      await send();
      check(await bobsMessage(n, "the notice or fallback"));
    }
    // Nothing lost, and the bridge still bridges: a text after all that arrives, once, in order.
    const n = bobCount();
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "still there?" });
    assert.equal((await bobsMessage(n, "the text after")).content.body, "still there?");
    const history = (await roomHistory(human, dm)).filter(
      (e) => e.type === "m.room.message" && e.sender === bob,
    );
    assert.equal(history.length, bobCount(), "the room's stored history has every message once");
  });
});
