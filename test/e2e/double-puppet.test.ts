// SPDX-License-Identifier: Apache-2.0
/**
 * Double puppeting through real Synapse, the bridge process and the reference server: the user's
 * messages from another Skype endpoint appear as their real Matrix account (a second appservice
 * registration in `double_puppet.secrets`, or their own token given with `login-matrix`), are
 * never sent back to Skype, and their read state there becomes their own read receipt. Off, the
 * "(you, on Skype)" puppet speaks as before.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import yaml from "js-yaml";
import { ControlClient } from "./harness/control.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { roomHistory, textMessages } from "./harness/room-history.js";
import { waitFor } from "./harness/util.js";

const ALICE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const SOURCE_KEY = "fi.mau.double_puppet_source";

/** The message with `body` in the room's stored history (waits for it). */
async function storedMessage(human: HumanClient, roomId: string, body: string): Promise<RoomEvent> {
  return waitFor(
    async () => textMessages(await roomHistory(human, roomId)).find((e) => e.content.body === body),
    { what: `"${body}" in the room`, timeoutMs: 30_000 },
  );
}

/** How many times Skype stored `text` from Alice to Bob. */
async function storedOnSkype(control: ControlClient, text: string): Promise<number> {
  const all = await control.messages({ user: "alice@hotmail.co.uk" });
  return all.filter((m) => m.from.startsWith("8:live:alice") && m.to === BOB && m.content === text).length;
}

/** Alice sends from Matrix and waits until Skype has it: a positive signal that earlier sends would have landed. */
async function sendFromMatrixAndWait(
  human: HumanClient,
  control: ControlClient,
  room: string,
  text: string,
): Promise<void> {
  await human.sendText(room, text);
  await waitFor(async () => (await storedOnSkype(control, text)) === 1, { what: `"${text}" on Skype` });
}

void describe("double puppeting with a second appservice registration", { timeout: 300_000 }, () => {
  let env: E2EEnv;
  let human: HumanClient;
  let control: ControlClient;
  let dm: string;

  before(async () => {
    env = await E2EEnv.create({ doublePuppet: true });
    control = new ControlClient(env.skype.controlUrl);
    human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    ({ room: dm } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE,
      text: "hello alice",
      senderPattern: /bob/,
    }));
  });

  after(async () => {
    await env?.close();
  });

  test("a message from another Skype device appears as the user's own account, once", async () => {
    await control.send({ from: ALICE, to: BOB, text: "sent from my phone" });
    const mine = await storedMessage(human, dm, "sent from my phone");
    assert.equal(mine.sender, human.mxid);
    assert.equal(mine.content[SOURCE_KEY], "skype");
    // Never sent back: a later Matrix message reaches Skype, the phone's message is still there once.
    await sendFromMatrixAndWait(human, control, dm, "typed in Matrix");
    assert.equal(await storedOnSkype(control, "sent from my phone"), 1);
    const texts = textMessages(await roomHistory(human, dm)).map((e) => e.content.body);
    assert.equal(texts.filter((t) => t === "sent from my phone").length, 1);
  });

  test("an edit and a delete from the other device act on the user's own event, never sent back", async () => {
    await control.send({ from: ALICE, to: BOB, text: "typo hre", clientMessageId: "7001" });
    const original = await storedMessage(human, dm, "typo hre");
    env.skype.msnp.editMessage({ from: ALICE, to: BOB, editedId: "7001", text: "typo here" });
    const edit = await waitFor(
      async () =>
        (await roomHistory(human, dm)).find(
          (e) =>
            (e.content["m.relates_to"] as { rel_type?: string; event_id?: string } | undefined)?.event_id ===
            original.event_id,
        ),
      { what: "the edit" },
    );
    assert.equal(edit.sender, human.mxid);
    assert.equal((edit.content["m.new_content"] as { body?: string }).body, "typo here");
    // The edit was not sent back: Skype holds the phone's one edit of 7001 only.
    await sendFromMatrixAndWait(human, control, dm, "after the edit");
    const edits = (await control.messages({ user: "alice@hotmail.co.uk" })).filter(
      (m) => m.editedId === "7001",
    );
    assert.equal(edits.length, 1);

    env.skype.msnp.deleteMessage({ from: ALICE, to: BOB, editedId: "7001" });
    const gone = await waitFor(
      async () =>
        (await roomHistory(human, dm)).find(
          (e) => e.event_id === original.event_id && e.unsigned?.redacted_because !== undefined,
        ),
      { what: "the redaction" },
    );
    assert.equal((gone.unsigned!.redacted_because as { sender?: string }).sender, human.mxid);
    await sendFromMatrixAndWait(human, control, dm, "after the delete");
    const changes = (await control.messages({ user: "alice@hotmail.co.uk" })).filter(
      (m) => m.editedId === "7001",
    );
    assert.equal(changes.length, 2, "the phone's edit and delete, nothing sent back");
  });

  test("reading on another Skype device becomes the user's own read receipt", async () => {
    const { messageId } = await control.send({ from: BOB, to: ALICE, text: "please read me" });
    const event = await storedMessage(human, dm, "please read me");
    await control.read({ user: ALICE, conversation: BOB, messageId });
    await human.waitForEphemeral((e) => {
      if (e.room_id !== dm || e.type !== "m.receipt") return false;
      const reads = (e.content[event.event_id] as { "m.read"?: Record<string, unknown> } | undefined)?.[
        "m.read"
      ];
      return reads !== undefined && human.mxid in reads;
    }, "the user's own receipt");
  });

  test("the second registration's token never reaches the bridge's log", () => {
    const config = yaml.load(readFileSync(env.configPath, "utf8")) as {
      double_puppet: { secrets: Record<string, string> };
    };
    const token = config.double_puppet.secrets.localhost!.slice("as_token:".length);
    assert.ok(token.length > 20 && env.bridgeLines.length > 0);
    assert.deepEqual(
      env.bridgeLines.filter((l) => l.includes(token)),
      [],
    );
  });
});

void describe(
  "double puppeting with the user's own token (login-matrix), and off",
  { timeout: 300_000 },
  () => {
    let env: E2EEnv;
    let human: HumanClient;
    let control: ControlClient;
    let mgmt: string;
    let dm: string;

    before(async () => {
      env = await E2EEnv.create();
      control = new ControlClient(env.skype.controlUrl);
      human = await env.human("alice");
      mgmt = await env.openManagementRoom(human);
      await env.linkSkype(human, mgmt);
      ({ room: dm } = await env.dmFromContact(human, {
        from: BOB,
        to: ALICE,
        text: "hello alice",
        senderPattern: /bob/,
      }));
    });

    after(async () => {
      await env?.close();
    });

    test("off: the user's other device speaks through the (you, on Skype) puppet", async () => {
      await control.send({ from: ALICE, to: BOB, text: "phone, no double puppet", clientMessageId: "8001" });
      const mine = await storedMessage(human, dm, "phone, no double puppet");
      assert.notEqual(mine.sender, human.mxid);
      assert.equal(mine.content[SOURCE_KEY], undefined);
    });

    test("wrong input gets a usage line or a clear error, and the message is removed", async () => {
      const usage = await env.command(human, mgmt, "login-matrix");
      assert.match(usage, /Usage: `login-matrix <access token>`/);
      const bad = await env.command(human, mgmt, "login-matrix not-a-real-token");
      assert.match(bad, /^Login failed: the homeserver does not accept this token/);
      const other = await env.human("mallory");
      const wrong = await env.command(human, mgmt, `login-matrix ${other.accessToken}`);
      assert.match(wrong, /^Login failed: this token belongs to @mallory:localhost, not to you/);
      // Every message that carried (or might have carried) a token was redacted.
      const history = await roomHistory(human, mgmt);
      const commands = history.filter((e) => e.sender === human.mxid && e.type === "m.room.message");
      for (const e of commands.filter((c) => c.unsigned?.redacted_because === undefined))
        assert.ok(
          !(typeof e.content.body === "string" && e.content.body.startsWith("login-matrix")),
          "a login-matrix message stayed",
        );
      assert.ok(commands.length >= 3);
    });

    test("with the user's own token, their other device speaks as them; logout-matrix turns it off", async () => {
      const on = await env.command(human, mgmt, `login-matrix ${human.accessToken}`);
      assert.match(on, /^Double puppeting is on/);
      await control.send({ from: ALICE, to: BOB, text: "phone, double puppet by token" });
      const mine = await storedMessage(human, dm, "phone, double puppet by token");
      assert.equal(mine.sender, human.mxid);
      assert.equal(mine.content[SOURCE_KEY], "skype");
      await sendFromMatrixAndWait(human, control, dm, "typed after the token");
      assert.equal(await storedOnSkype(control, "phone, double puppet by token"), 1);

      // An edit of a message bridged before comes from the puppet that sent it, not the real account.
      const earlier = await storedMessage(human, dm, "phone, no double puppet");
      env.skype.msnp.editMessage({ from: ALICE, to: BOB, editedId: "8001", text: "phone, edited later" });
      const edit = await waitFor(
        async () =>
          (await roomHistory(human, dm)).find(
            (e) =>
              (e.content["m.relates_to"] as { event_id?: string } | undefined)?.event_id === earlier.event_id,
          ),
        { what: "the edit of the earlier message" },
      );
      assert.equal(edit.sender, earlier.sender);

      const off = await env.command(human, mgmt, "logout-matrix");
      assert.match(off, /^I forgot your access token/);
      await control.send({ from: ALICE, to: BOB, text: "phone, after logout-matrix" });
      const puppet = await storedMessage(human, dm, "phone, after logout-matrix");
      assert.notEqual(puppet.sender, human.mxid);
    });

    test("a token that stops working is forgotten, the user told, and the puppet speaks", async () => {
      // A second session of alice's, made by an admin, given to the bridge and then logged out.
      const admin = await env.synapse.registerUser("dpadmin", { admin: true });
      const res = await fetch(
        `${env.synapse.url}/_synapse/admin/v1/users/${encodeURIComponent(human.mxid)}/login`,
        { method: "POST", headers: { authorization: `Bearer ${admin.accessToken}` }, body: "{}" },
      );
      const { access_token: token } = (await res.json()) as { access_token: string };
      assert.match(await env.command(human, mgmt, `login-matrix ${token}`), /^Double puppeting is on/);
      await control.send({ from: ALICE, to: BOB, text: "phone, second token" });
      assert.equal((await storedMessage(human, dm, "phone, second token")).sender, human.mxid);
      await fetch(`${env.synapse.url}/_matrix/client/v3/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: "{}",
      });
      await control.send({ from: ALICE, to: BOB, text: "phone, token gone" });
      const after = await storedMessage(human, dm, "phone, token gone");
      assert.notEqual(after.sender, human.mxid);
      await human.waitForEvent(
        (e) =>
          e.room_id === mgmt &&
          e.sender === env.botUserId &&
          String(e.content.body).includes("access token for double puppeting no longer works"),
        "the notice about the token",
      );
      assert.deepEqual(
        env.bridgeLines.filter((l) => l.includes(token)),
        [],
      );
    });

    test("the token never reaches the bridge's log", () => {
      assert.ok(env.bridgeLines.length > 0);
      const leaked = env.bridgeLines.filter((l) => l.includes(human.accessToken));
      assert.deepEqual(leaked, []);
    });
  },
);
