// SPDX-License-Identifier: Apache-2.0
/**
 * Permissions and admin commands through a real Synapse: a user outside the permissions gets one
 * polite refusal and nothing else, a non-admin is refused admin commands, and every admin command
 * works (`admin login` ends in a linked account, `admin delete-portal` leaves a clean state). The
 * bridge states of linked users reach the configured status endpoint.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { puppetMxid } from "../../src/bridge/ghosts/ids.js";
import {
  asToken,
  eventHandled,
  isPortalRoom,
  portalRooms,
  puppetMxids,
  userRow,
} from "./harness/bridge-db.js";
import { botMessagesSince, commandUntil } from "./harness/commands.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { StatusEndpoint } from "./harness/status-endpoint.js";
import { waitFor } from "./harness/util.js";

const REFUSAL = "Sorry, admin commands are only for the bridge's admins.";

describe("permissions and admin commands against a real Synapse", () => {
  let env: E2EEnv;
  let status: StatusEndpoint;
  let admin: HumanClient;
  let adminRoom: string;
  let bob: HumanClient;
  let bobRoom: string;
  const dave = puppetMxid("skype_{id}", "8:dave.lister", "localhost");
  const asAdmin = (text: string) => env.command(admin, adminRoom, text);
  const online = (identity: string) => env.skypeOnline(identity);

  before(async () => {
    status = await StatusEndpoint.start();
    env = await E2EEnv.create({
      config: {
        homeserver: { url: "http://127.0.0.1:1", domain: "localhost", status_endpoint: status.url },
        permissions: { "@admin:localhost": "admin", "@bob:localhost": "user", "@carol:localhost": "user" },
        permissions_contact: "@admin:localhost (the bridge team)",
      },
    });
    admin = await env.human("admin");
    bob = await env.human("bob");
  });
  after(async () => {
    await env?.close();
    await status?.close();
  });

  test("a user outside the permissions gets one polite refusal and nothing else", async () => {
    const mallory = await env.human("mallory");
    const dm = await mallory.createRoom({
      invite: [env.botUserId],
      is_direct: true,
      preset: "trusted_private_chat",
    });
    const left = await mallory.waitForEvent(
      (e) =>
        e.room_id === dm &&
        e.type === "m.room.member" &&
        e.state_key === env.botUserId &&
        e.content.membership === "leave",
      "the bot to leave",
    );
    const said = mallory.messagesIn(dm, { fromOthers: true });
    assert.equal(said.length, 1);
    assert.equal(
      said[0]!.content.body,
      "Sorry, you are not allowed to use this Skype bridge. To get access, ask @admin:localhost (the bridge team). I am leaving this room now.",
    );
    // A puppet invited by her starts nothing: once the bridge has handled that invite, no puppet,
    // no portal and no user row exists for her.
    const room = await mallory.createRoom({ is_direct: true, preset: "trusted_private_chat" });
    await mallory.inviteUser(dave, room);
    const invite = await mallory.waitForEvent(
      (e) => e.room_id === room && e.type === "m.room.member" && e.state_key === dave,
      "the invite in her timeline",
    );
    await waitFor(() => eventHandled(env, invite.event_id), {
      what: "the bridge to handle the puppet invite",
    });
    assert.ok(!puppetMxids(env).includes(dave), "no puppet was made");
    assert.equal(userRow(env, mallory.mxid), undefined, "no user row, so no tokens");
    assert.deepEqual(portalRooms(env, mallory.mxid), []);
    assert.equal(
      mallory.timeline.indexOf(left),
      mallory.timeline.findLastIndex((e) => e.room_id === dm),
    );
    assert.equal(mallory.messagesIn(room, { fromOthers: true }).length, 0);
  });

  test("a non-admin is refused admin commands, once each", async () => {
    bobRoom = await env.openManagementRoom(bob);
    const from = bob.timeline.length;
    assert.equal(await env.command(bob, bobRoom, "admin status"), REFUSAL);
    assert.equal(await env.command(bob, bobRoom, "admin logout @admin:localhost"), REFUSAL);
    // The answer to a later command is the signal that nothing else was sent in between.
    assert.match(await env.command(bob, bobRoom, "version"), /^skype-matrix-bridge /);
    const said = botMessagesSince(env, bob, bobRoom, from).map((e) => String(e.content.body));
    assert.equal(said.length, 3);
    assert.deepEqual(said.slice(0, 2), [REFUSAL, REFUSAL]);
    assert.ok(!(await env.command(bob, bobRoom, "help")).includes("admin"));
  });

  test("admin help lists the admin commands; wrong arguments get the usage line", async () => {
    adminRoom = await env.openManagementRoom(admin);
    assert.match(await asAdmin("help"), /\nAdmin:\n• admin status — /);
    assert.equal(await asAdmin("admin status now"), "Usage: `admin status`.");
    assert.equal(await asAdmin("admin users all"), "Usage: `admin users`.");
    assert.equal(
      await asAdmin("admin reconnect"),
      "Usage: `admin reconnect <mxid>`, for example `admin reconnect @alice:example.org`.",
    );
    assert.equal(
      await asAdmin("admin logout bob"),
      '"bob" is not a Matrix user id. Usage: `admin logout <mxid>`, for example `admin logout @alice:example.org`.',
    );
    assert.equal(
      await asAdmin("admin login @bob:localhost not-an-email"),
      '"not-an-email" is not an e-mail address. Usage: `admin login <mxid> [e-mail]`, for example `admin login @alice:example.org alice@example.org`.',
    );
    assert.match(await asAdmin("admin resync"), /^Usage: `admin resync <mxid>`/);
    assert.match(await asAdmin("admin broadcast"), /^Usage: `admin broadcast <text>`/);
    assert.equal(await asAdmin("admin delete-portal now"), "Usage: `admin delete-portal`.");
    assert.match(
      await asAdmin("admin frobnicate"),
      /^Unknown admin command "frobnicate"\. Admin commands: `admin status`/,
    );
  });

  test("admin commands about users who cannot be acted on say why", async () => {
    assert.equal(
      await asAdmin("admin logout @nobody:localhost"),
      "@nobody:localhost is not logged in to Skype.",
    );
    assert.equal(
      await asAdmin("admin resync @nobody:localhost"),
      "@nobody:localhost is not logged in to Skype.",
    );
    assert.equal(
      await asAdmin("admin login @carol:localhost"),
      "@carol:localhost has no management room: ask them to start a direct chat with me first.",
    );
    assert.equal(
      await asAdmin("admin login @mallory:localhost"),
      "@mallory:localhost is not allowed to use this bridge (see the permissions).",
    );
    assert.equal(
      await asAdmin("admin delete-portal"),
      "This room is not a portal. Send `!skype admin delete-portal` in the portal to remove.",
    );
  });

  test("admin login starts a login the user answers in their management room", async () => {
    const reply = await asAdmin("admin login @bob:localhost bob@outlook.com");
    assert.equal(
      reply,
      "Started a password login for bob@outlook.com: @bob:localhost has the prompt in their management room.",
    );
    await bob.waitForEvent(
      (e) =>
        e.room_id === bobRoom && String(e.content.body).startsWith("Send the password of bob@outlook.com"),
      "the prompt in bob's room",
    );
    assert.equal(
      await asAdmin("admin login @bob:localhost"),
      "A login already waits for @bob:localhost's answer.",
    );
    assert.match(
      await env.command(bob, bobRoom, "canwefixit"),
      /^Linked to Skype as Bob Builder \(1:bob@outlook\.com, 8:live:bob_1\)/,
    );
    await waitFor(() => online("8:live:bob_1"), { what: "bob's session", timeoutMs: 30_000 });
  });

  test("bridge states reach the status endpoint with the appservice token", async () => {
    const got = await waitFor(
      () => status.received.find((r) => r.body.user_id === bob.mxid && r.body.state_event === "CONNECTED"),
      { what: "bob's CONNECTED state", timeoutMs: 30_000 },
    );
    assert.equal(got.authorization, `Bearer ${asToken(env)}`);
    assert.equal(got.body.remote_id, "8:live:bob_1");
    assert.equal(got.body.source, "bridge");
    assert.equal(typeof got.body.timestamp, "number");
    assert.ok(!status.statesOf(bob.mxid).includes("CONNECTING"), "CONNECTING is not sent");
  });

  test("admin status and admin users describe the bridge", async () => {
    const s = await asAdmin("admin status");
    assert.match(s, /^skype-matrix-bridge \d+\.\d+\.\d+ \(Node v\d+.*\), up \d+ (s|min)\.\n/);
    assert.match(s, /\nLinked users: 1; sessions: 1 CONNECTED\.\n/);
    assert.match(s, /\nPortals: \d+ \(\d+ DMs, \d+ groups\); puppets: \d+\.\n/);
    assert.match(
      s,
      /\nQueues: \d+ portal queues busy, \d+ Matrix events waiting in the inbox, \d+ Skype sends waiting in the outbox\.$/,
    );
    const users = await asAdmin("admin users");
    assert.match(
      users,
      /^Linked users \(1\):\n• @bob:localhost — bob@outlook\.com \(1:bob@outlook\.com, 8:live:bob_1\) — CONNECTED — last active \d+ (s|min) ago$/,
    );
  });

  test("admin resync and admin reconnect act on another user", async () => {
    const done = await commandUntil(
      env,
      admin,
      adminRoom,
      "admin resync @bob:localhost",
      /^Sync done|^The sync/,
    );
    assert.match(done, /^Sync done in [\d.]+ s: \d+ contacts, \d+ contact requests? waiting\.$/);
    const reply = await commandUntil(env, admin, adminRoom, "admin reconnect @bob:localhost", /^@bob/);
    assert.equal(reply, "@bob:localhost: Connected to Skype as live:bob_1.");
  });

  test("admin broadcast reaches every management room", async () => {
    assert.equal(
      await commandUntil(env, admin, adminRoom, "admin broadcast Maintenance at 22:00", /^Sent to/),
      "Sent to 2 of 2 management rooms.",
    );
    await admin.waitForEvent(
      (e) =>
        e.room_id === adminRoom && e.content.body === "Message from the bridge's admin: Maintenance at 22:00",
      "the broadcast in the admin's own room",
    );
    await bob.waitForEvent(
      (e) =>
        e.room_id === bobRoom && e.content.body === "Message from the bridge's admin: Maintenance at 22:00",
      "the broadcast in bob's room",
    );
  });

  test("admin delete-portal removes a portal cleanly; the next message makes a new one", async () => {
    await env.linkSkype(admin, adminRoom);
    const { room } = await env.dmFromContact(admin, {
      from: "8:dave.lister",
      to: "8:live:alice_1",
      text: "first",
      senderPattern: /skype_8=3adave/,
    });
    const before = admin.timeline.length;
    await admin.sendText(room, "!skype admin delete-portal");
    await admin.waitForEvent(
      (e) => e.room_id === room && String(e.content.body).startsWith("An admin removed this portal"),
      "the notice in the portal",
    );
    for (const who of [dave, env.botUserId]) {
      await admin.waitForEvent(
        (e) =>
          admin.timeline.indexOf(e) >= before &&
          e.room_id === room &&
          e.type === "m.room.member" &&
          e.state_key === who &&
          e.content.membership === "leave",
        `${who} to leave`,
      );
    }
    const info = (await admin.getRoomStateEvent(room, "m.bridge", "localhost/skype")) as Record<
      string,
      unknown
    >;
    assert.deepEqual(info, {}, "the bridge info is cleared");
    assert.ok(!isPortalRoom(env, room), "the mapping is forgotten");
    env.skype.msnp.sendMessage({ from: "8:dave.lister", to: "8:live:alice_1", text: "second" });
    const fresh = await admin.waitForInvite(
      (r, e) => r !== room && e.sender === dave,
      "a new DM invite from dave",
    );
    await admin.joinRoom(fresh);
    await admin.waitForEvent(
      (e) => e.room_id === fresh && e.content.body === "second",
      "the message in the new portal",
    );
    assert.ok(!admin.messagesIn(room).some((e) => e.content.body === "second"));
  });

  test("admin logout unlinks a user, who is told; the status endpoint gets LOGGED_OUT", async () => {
    assert.equal(
      await asAdmin("admin logout @bob:localhost"),
      "Logged @bob:localhost out of Skype and forgot their tokens; they have been told.",
    );
    await bob.waitForEvent(
      (e) =>
        e.room_id === bobRoom &&
        String(e.content.body).startsWith("An admin of this bridge logged you out of Skype"),
      "the notice in bob's room",
    );
    await waitFor(() => !online("8:live:bob_1"), { what: "bob's session to stop" });
    assert.equal(userRow(env, bob.mxid)?.hasToken, false);
    await waitFor(() => status.statesOf(bob.mxid).includes("LOGGED_OUT"), { what: "bob's LOGGED_OUT state" });
  });
});
