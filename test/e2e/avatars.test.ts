// SPDX-License-Identifier: Apache-2.0
/**
 * Puppet avatars through real Synapse, the bridge process and the reference server (PROFILE §7.6):
 * a contact's avatar on its puppet (the very bytes, in the media repository), its change, an
 * unchanged avatar not uploaded again (the ETag answers 304), a broken image keeping the previous
 * avatar, a removed avatar clearing it, and the user's own puppet.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { ControlClient } from "./harness/control.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { roomHistory, textMessages } from "./harness/room-history.js";
import { waitFor } from "./harness/util.js";

const ALICE = "8:live:alice_1";
const BOB = "8:live:bob_1";

/** A valid 1×1 PNG of one colour (so the homeserver can thumbnail it). */
function png(r: number, g: number, b: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const pixels = deflateSync(Buffer.from([0, r, g, b]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const RED = png(255, 0, 0);
const BLUE = png(0, 0, 255);
const GREEN = png(0, 160, 0);

/** A puppet's global avatar as the human reads it ("" when none). */
async function avatarOf(human: HumanClient, mxid: string): Promise<string> {
  try {
    const res = (await human.doRequest(
      "GET",
      `/_matrix/client/v3/profile/${encodeURIComponent(mxid)}/avatar_url`,
    )) as { avatar_url?: string };
    return res.avatar_url ?? "";
  } catch {
    return "";
  }
}

/** The bytes behind an mxc URI, downloaded by the human (authenticated media). */
async function mediaBytes(env: E2EEnv, human: HumanClient, mxc: string): Promise<Buffer> {
  const [server, id] = mxc.slice("mxc://".length).split("/");
  const res = await fetch(`${env.synapse.url}/_matrix/client/v1/media/download/${server}/${id}`, {
    headers: { authorization: `Bearer ${human.accessToken}` },
  });
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

void describe("puppet avatars", { timeout: 300_000 }, () => {
  let env: E2EEnv;
  let human: HumanClient;
  let control: ControlClient;
  let mgmt: string;
  let dm: string;
  let bob: string;

  /** Avatar requests the bridge made for bob, with their answers. */
  const bobAvatarRequests = async (since: number): Promise<{ seq: number; status: number }[]> =>
    (await control.requests(since))
      .filter((r) => r.endpoint === "avatar" && String(r.path).includes("bob"))
      .map((r) => ({ seq: r.seq, status: r.status }));
  const lastSeq = async (): Promise<number> => (await control.requests()).at(-1)?.seq ?? 0;

  before(async () => {
    env = await E2EEnv.create();
    control = new ControlClient(env.skype.controlUrl);
    await control.setAvatar({ user: BOB, content: RED, mime: "image/png" });
    await control.setAvatar({ user: ALICE, content: GREEN, mime: "image/png" });
    human = await env.human("alice");
    mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    ({ room: dm, puppet: bob } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE,
      text: "look at my face",
      senderPattern: /bob/,
    }));
  });

  after(async () => {
    await env?.close();
  });

  let first: string;

  test("a contact's puppet carries their Skype avatar, byte for byte", async () => {
    first = await waitFor(async () => (await avatarOf(human, bob)) || undefined, { what: "bob's avatar" });
    assert.match(first, /^mxc:\/\//);
    assert.deepEqual(await mediaBytes(env, human, first), RED);
  });

  test("an unchanged avatar is not uploaded again: the ETag gets a 304", async () => {
    const since = await lastSeq();
    assert.match(await env.command(human, mgmt, "sync"), /Re-reading the Skype contacts/);
    await waitFor(async () => (await bobAvatarRequests(since)).some((r) => r.status === 304), {
      what: "a 304 for bob's avatar",
    });
    assert.equal(await avatarOf(human, bob), first);
  });

  let second: string;

  test("a changed avatar follows on the puppet (NFY ABCH)", async () => {
    await control.setAvatar({ user: BOB, content: BLUE, mime: "image/png" });
    second = await waitFor(
      async () => {
        const now = await avatarOf(human, bob);
        return now !== first && now !== "" ? now : undefined;
      },
      { what: "bob's new avatar" },
    );
    assert.deepEqual(await mediaBytes(env, human, second), BLUE);
    // The DM shows the puppet's new face in its member event too.
    await waitFor(
      async () =>
        ((await human.getRoomStateEvent(dm, "m.room.member", bob)) as { avatar_url?: string }).avatar_url ===
        second,
      { what: "the member event's avatar" },
    );
  });

  test("a broken image keeps the previous avatar, and says so in the log", async () => {
    const logged = env.bridgeLines.length;
    await control.setAvatar({ user: BOB, content: Buffer.from("this is not a picture"), mime: "image/png" });
    await waitFor(
      () => env.bridgeLines.slice(logged).some((l) => l.includes("could not read a Skype avatar")),
      { what: "the bridge to read the broken avatar" },
    );
    assert.equal(await avatarOf(human, bob), second);
  });

  test("a removed avatar (404) clears the puppet's", async () => {
    await control.clearAvatar(BOB);
    await waitFor(async () => (await avatarOf(human, bob)) === "", { what: "bob's avatar to go" });
  });

  test("the user's own puppet carries their avatar", async () => {
    await control.send({ from: ALICE, to: BOB, text: "my other device" });
    const mine = await waitFor(
      async () =>
        textMessages(await roomHistory(human, dm)).find((e) => e.content.body === "my other device"),
      { what: "the user's own message" },
    );
    assert.notEqual(mine.sender, human.mxid);
    const own = await waitFor(async () => (await avatarOf(human, mine.sender)) || undefined, {
      what: "the own puppet's avatar",
    });
    assert.deepEqual(await mediaBytes(env, human, own), GREEN);
  });
});
