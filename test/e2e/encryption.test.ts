// SPDX-License-Identifier: Apache-2.0
/**
 * End-to-bridge encryption through a real Synapse with the appservice encryption features on
 * (MSC2409 to-device, MSC3202 key counts and device lists, MSC3983/MSC3984 key claims and
 * queries), the bridge process and the reference server. The human is bot-sdk's own client with
 * its own device and crypto (through the same wasm stand-in as the bridge, in this process): an
 * encrypted DM portal (created encrypted: `encryption.default`), text and edits each way decrypt
 * on both sides and every event in the room is `m.room.encrypted`; the bridge restarts and the
 * conversation goes on (same devices); a second device of the human receives the keys of what is
 * sent after it logged in. Prints the cost (memory of the bridge process, latency per message).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import yaml from "js-yaml";
import { after, before, describe, test } from "node:test";
import { ControlClient } from "./harness/control.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const DAVE = "8:dave.lister";

/** Chat messages (no Control/*) alice's Skype client sent to `to`, with their headers. */
function chatTo(env: E2EEnv, to: string) {
  return env.skype.msnp
    .receivedMessages({ user: "alice@hotmail.co.uk" })
    .filter((r) => r.to === to && !r.messageType.toLowerCase().startsWith("control/"))
    .map((r) => ({
      body: r.body,
      header: (name: string) => r.messaging.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
    }));
}

/** The event as the homeserver stores it (not decrypted). */
async function rawEvent(
  human: HumanClient,
  roomId: string,
  eventId: string,
): Promise<Record<string, unknown>> {
  return (await human.doRequest(
    "GET",
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`,
  )) as Record<string, unknown>;
}

/** Every message-like event of the room as stored (read with /messages): their types. */
async function storedTypes(human: HumanClient, roomId: string): Promise<string[]> {
  const res = (await human.doRequest(
    "GET",
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
    {
      dir: "b",
      limit: 200,
    },
  )) as { chunk: { type: string; state_key?: string }[] };
  return res.chunk.filter((e) => e.state_key === undefined).map((e) => e.type);
}

/** Resident memory of the bridge process in KiB (Linux), or undefined. */
function bridgeRssKiB(env: E2EEnv): number | undefined {
  const pid = (env as unknown as { bridge?: { pid?: number } }).bridge?.pid;
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

describe("end-to-bridge encryption", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;
  let bob: string;

  /** Bob says `text` on Skype; resolves with the event the human decrypted. */
  async function bobSays(text: string, who: HumanClient = human): Promise<RoomEvent> {
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text });
    return who.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.type === "m.room.message" && e.content.body === text,
      `"${text}" to arrive decrypted`,
      60_000,
    );
  }

  /** The human sends `content`; resolves when Skype got one more message to Bob. */
  async function aliceSends(content: Record<string, unknown>) {
    const count = chatTo(env, BOB).length;
    const eventId = await human.sendMessage(dm, content);
    const got = await waitFor(() => chatTo(env, BOB)[count], {
      timeoutMs: 60_000,
      what: `Skype to receive ${JSON.stringify(content.body)}`,
    });
    return { eventId, sdg: got };
  }

  before(async () => {
    env = await E2EEnv.create({
      config: { encryption: { enabled: true, default: true } },
      synapseEncryption: true,
    });
    human = await env.human("alice", { encryption: true });
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
  });
  after(async () => {
    await env?.close();
  });

  test("the registration asks for the transaction extensions", () => {
    const reg = readFileSync(env.registrationPath, "utf8");
    assert.match(reg, /org\.matrix\.msc3202: true/);
    assert.match(reg, /de\.sorunome\.msc2409\.push_ephemeral: true/);
  });

  test("a contact's first message opens an encrypted DM and arrives encrypted, decrypted by the human", async () => {
    const rssBefore = bridgeRssKiB(env);
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "Hi Alice, encrypted" });
    dm = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && /bob/.test(e.sender),
      "the DM invite",
    );
    bob = human.invites.find((i) => i.roomId === dm)!.event.sender;
    await human.joinRoom(dm);
    const encryption = (await human.getRoomStateEvent(dm, "m.room.encryption", "")) as { algorithm?: string };
    assert.equal(encryption.algorithm, "m.megolm.v1.aes-sha2");
    const first = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.type === "m.room.message",
      "the first message, decrypted",
      60_000,
    );
    assert.equal(first.content.body, "Hi Alice, encrypted");
    assert.ok(human.arrivedEncrypted.has(first.event_id), "it arrived as m.room.encrypted");
    assert.equal((await rawEvent(human, dm, first.event_id)).type, "m.room.encrypted");
    const rssAfter = bridgeRssKiB(env);
    if (rssBefore !== undefined && rssAfter !== undefined)
      // eslint-disable-next-line no-console -- the cost figures are part of this test's output
      console.log(
        `[cost] bridge RSS before the first encrypted portal ${rssBefore} KiB, after (portal + puppet device + its Olm/Megolm sessions) ${rssAfter} KiB: +${rssAfter - rssBefore} KiB`,
      );
  });

  test("text each way: Skype → Matrix decrypts for the human, Matrix → Skype is decrypted by the bridge", async () => {
    const t0 = Date.now();
    const fromBob = await bobSays("how are you?");
    const skypeToMatrixMs = Date.now() - t0;
    assert.ok(human.arrivedEncrypted.has(fromBob.event_id));
    const t1 = Date.now();
    const { eventId, sdg } = await aliceSends({ msgtype: "m.text", body: "fine, and encrypted" });
    const matrixToSkypeMs = Date.now() - t1;
    assert.equal(sdg.body, "fine, and encrypted");
    assert.equal((await rawEvent(human, dm, eventId)).type, "m.room.encrypted");
    // eslint-disable-next-line no-console -- the cost figures are part of this test's output
    console.log(
      `[cost] one encrypted message end to end: Skype → Matrix ${skypeToMatrixMs} ms, Matrix → Skype ${matrixToSkypeMs} ms (Synapse, bridge and reference server on one loaded machine)`,
    );
  });

  test("edits and replies each way", async () => {
    // Matrix → Skype: an edit targets the original's Client-Message-ID.
    const { eventId, sdg: original } = await aliceSends({ msgtype: "m.text", body: "teh typo" });
    const { sdg: edit } = await aliceSends({
      msgtype: "m.text",
      body: "* the typo",
      "m.new_content": { msgtype: "m.text", body: "the typo" },
      "m.relates_to": { rel_type: "m.replace", event_id: eventId },
    });
    assert.equal(edit.header("Skype-EditedId"), original.header("Client-Message-ID"));
    assert.equal(edit.body, "the typo");
    // A reply (its relation is inside the encrypted content) is bridged as a message.
    const { sdg: reply } = await aliceSends({
      msgtype: "m.text",
      body: "> <@skype:localhost> the typo\n\nindeed",
      "m.relates_to": { "m.in_reply_to": { event_id: eventId } },
    });
    assert.match(reply.body, /indeed/);
    // Skype → Matrix: Bob edits his message; the human decrypts the m.replace.
    const sent = env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "speling" });
    const orig = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.content.body === "speling",
      "Bob's message",
      60_000,
    );
    env.skype.msnp.editMessage({
      from: BOB,
      to: ALICE_SKYPE,
      editedId: sent.clientMessageId,
      text: "spelling",
    });
    const bobEdit = await human.waitForEvent(
      (e) =>
        e.room_id === dm &&
        e.sender === bob &&
        (e.content["m.relates_to"] as { rel_type?: string; event_id?: string } | undefined)?.event_id ===
          orig.event_id,
      "Bob's edit, decrypted",
      60_000,
    );
    assert.equal((bobEdit.content["m.new_content"] as { body?: string }).body, "spelling");
    assert.ok(human.arrivedEncrypted.has(bobEdit.event_id));
  });

  test("after a bridge restart the conversation goes on with the same devices", async () => {
    const devicesBefore = await human.getUserDevices([bob, env.botUserId]);
    await env.stopBridge("SIGTERM");
    await env.startBridge();
    assert.ok(human.arrivedEncrypted.has((await bobSays("back after the restart")).event_id));
    const { sdg } = await aliceSends({ msgtype: "m.text", body: "welcome back" });
    assert.equal(sdg.body, "welcome back");
    const devicesAfter = await human.getUserDevices([bob, env.botUserId]);
    for (const user of [bob, env.botUserId])
      assert.deepEqual(
        Object.keys(devicesAfter.device_keys[user] ?? {}),
        Object.keys(devicesBefore.device_keys[user] ?? {}),
        `${user} kept its one device`,
      );
    assert.equal(Object.keys(devicesAfter.device_keys[bob] ?? {}).length, 1);
  });

  test("after a crash (SIGKILL) the bridge recovers: messages go on both ways", async () => {
    await env.stopBridge("SIGKILL");
    await env.startBridge();
    assert.ok(human.arrivedEncrypted.has((await bobSays("back after the crash")).event_id));
    const { sdg } = await aliceSends({ msgtype: "m.text", body: "glad you survived" });
    assert.equal(sdg.body, "glad you survived");
  });

  test("a new device of the human gets the keys of later messages", async () => {
    const second = await env.humanDevice(human.mxid, { encryption: true });
    // The bridge learns of the new device through the device list change in a transaction.
    const event = await bobSays("hello, second device", second);
    assert.ok(second.arrivedEncrypted.has(event.event_id));
    // And the bridge decrypts what the new device sends.
    const count = chatTo(env, BOB).length;
    await second.sendMessage(dm, { msgtype: "m.text", body: "from my second device" });
    const got = await waitFor(() => chatTo(env, BOB)[count], {
      timeoutMs: 60_000,
      what: "the second device's message",
    });
    assert.equal(got.body, "from my second device");
  });

  test("an encrypted group portal: members' puppets each with a device, text each way", async () => {
    const rssBefore = bridgeRssKiB(env);
    const { id: thread } = env.skype.msnp.createThread({
      as: "bob@outlook.com",
      members: [{ mri: BOB }, { mri: ALICE_SKYPE }, { mri: DAVE }],
      topic: "Encrypted dinner",
    });
    const room = await human.waitForInvite(
      (_r, e) => e.sender === env.botUserId && e.content.is_direct !== true,
      "the group invite",
    );
    await human.joinRoom(room);
    const encryption = (await human.getRoomStateEvent(room, "m.room.encryption", "")) as {
      algorithm?: string;
    };
    assert.equal(encryption.algorithm, "m.megolm.v1.aes-sha2");
    for (const [from, text] of [
      [BOB, "bob in the encrypted group"],
      [DAVE, "dave in the encrypted group"],
    ] as const) {
      env.skype.msnp.sendMessage({ from, to: thread, text });
      const got = await human.waitForEvent(
        (e) => e.room_id === room && e.type === "m.room.message" && e.content.body === text,
        `"${text}" decrypted`,
        60_000,
      );
      assert.ok(human.arrivedEncrypted.has(got.event_id), `"${text}" arrived encrypted`);
    }
    const rssAfter = bridgeRssKiB(env);
    if (rssBefore !== undefined && rssAfter !== undefined)
      // eslint-disable-next-line no-console -- the cost figures are part of this test's output
      console.log(
        `[cost] bridge RSS after an encrypted group portal with a new puppet device (dave) and a second Megolm session per puppet: +${rssAfter - rssBefore} KiB`,
      );
    const eventId = await human.sendText(room, "alice in the encrypted group");
    assert.equal((await rawEvent(human, room, eventId)).type, "m.room.encrypted");
    await waitFor(
      () =>
        env.skype.msnp
          .storedMessages({ conversation: thread })
          .some((m) => m.from === ALICE_SKYPE && m.content === "alice in the encrypted group"),
      { timeoutMs: 60_000, what: "alice's encrypted message in the Skype thread" },
    );
  });

  test("a file from Skype is uploaded encrypted: the homeserver holds ciphertext, the human decrypts it byte for byte", async () => {
    const control = new ControlClient(env.skype.controlUrl);
    const bytes = randomBytes(200_000);
    await control.mediaSend({
      from: BOB,
      to: ALICE_SKYPE,
      kind: "file",
      name: "secret-plans.bin",
      content: bytes,
      mime: "application/octet-stream",
    });
    const ev = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.content.msgtype === "m.file",
      "the file, decrypted",
      60_000,
    );
    assert.ok(human.arrivedEncrypted.has(ev.event_id), "the event itself is encrypted");
    assert.equal(ev.content.body, "secret-plans.bin");
    assert.equal(ev.content.url, undefined, "no clear url");
    const file = ev.content.file as { url: string; v: string };
    assert.equal(file.v, "v2");
    const m = /^mxc:\/\/([^/]+)\/(.+)$/.exec(file.url);
    assert.ok(m, file.url);
    const res = await fetch(`${env.synapse.url}/_matrix/client/v1/media/download/${m[1]}/${m[2]}`, {
      headers: { authorization: `Bearer ${human.accessToken}` },
    });
    assert.equal(res.status, 200);
    const stored = Buffer.from(await res.arrayBuffer());
    assert.equal(stored.length, bytes.length);
    assert.notDeepEqual(stored.subarray(0, 64), bytes.subarray(0, 64), "the homeserver has ciphertext");
    // Decrypted with the Rust crypto (the client side's implementation).
    const sdk = createRequire(__filename)("@matrix-org/matrix-sdk-crypto-nodejs") as {
      Attachment: { decrypt(a: unknown): Uint8Array };
      EncryptedAttachment: new (data: Uint8Array, info: string) => unknown;
    };
    const plain = sdk.Attachment.decrypt(new sdk.EncryptedAttachment(stored, JSON.stringify(file)));
    assert.ok(Buffer.from(plain).equals(bytes), "byte for byte");
  });

  test("an encrypted file from Matrix is decrypted by the bridge and reaches Skype byte for byte", async () => {
    const control = new ControlClient(env.skype.controlUrl);
    const bytes = randomBytes(300_000);
    // The human's client encrypts the attachment (bot-sdk's CryptoClient, the Rust crypto).
    const sealed = await human.crypto.encryptMedia(bytes);
    const mxc = await human.uploadContent(sealed.buffer, "application/octet-stream");
    const count = chatTo(env, BOB).length;
    await human.sendMessage(dm, {
      msgtype: "m.file",
      body: "from-alice.bin",
      file: { ...sealed.file, url: mxc },
      info: { size: bytes.length, mimetype: "application/octet-stream" },
    });
    const sent = await waitFor(() => chatTo(env, BOB)[count], {
      timeoutMs: 60_000,
      what: "the file on Skype",
    });
    const id = /\/v1\/objects\/([^"/]+)"/.exec(sent.body)?.[1];
    assert.ok(id, `an object id in ${sent.body}`);
    const obj = await control.mediaGetObject(decodeURIComponent(id));
    assert.ok(obj?.contentBase64, "the object has content");
    assert.ok(Buffer.from(obj.contentBase64, "base64").equals(bytes), "byte for byte");
  });

  test("everything in the DM was encrypted on the wire", async () => {
    const types = await storedTypes(human, dm);
    assert.ok(types.length >= 10, `events: ${types.join(", ")}`);
    // (The encryption.require test below adds one clear message on purpose.)
    assert.deepEqual(
      types.filter((t) => t !== "m.room.encrypted" && t !== "m.room.redaction"),
      [],
    );
    assert.equal(human.undecryptable.size, 0, "the human decrypted everything");
  });

  test("encryption.require: an unencrypted message in a portal is not bridged, its sender is told", async () => {
    const config = yaml.load(readFileSync(env.configPath, "utf8")) as Record<string, unknown>;
    writeFileSync(
      env.configPath,
      yaml.dump({ ...config, encryption: { enabled: true, default: true, require: true } }),
    );
    await env.stopBridge("SIGTERM");
    await env.startBridge();
    const count = chatTo(env, BOB).length;
    // Sent in the clear on purpose (the client would encrypt in this room).
    const { event_id: eventId } = (await human.doRequest(
      "PUT",
      `/_matrix/client/v3/rooms/${encodeURIComponent(dm)}/send/m.room.message/clear-${Date.now()}`,
      null,
      { msgtype: "m.text", body: "sent in the clear" },
    )) as { event_id: string };
    const notice = await human.waitForEvent(
      (e) =>
        e.room_id === dm &&
        e.content.msgtype === "m.notice" &&
        (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
          "m.in_reply_to"
        ]?.event_id === eventId,
      "the not-bridged notice",
      60_000,
    );
    assert.match(String(notice.content.body), /only bridges encrypted messages/);
    assert.ok(human.arrivedEncrypted.has(notice.event_id), "the notice itself is encrypted");
    // The notice comes after the decision: Skype got nothing.
    assert.equal(chatTo(env, BOB).length, count);
    // Encrypted messages still go through.
    const { sdg } = await aliceSends({ msgtype: "m.text", body: "encrypted still works" });
    assert.equal(sdg.body, "encrypted still works");
  });
});
