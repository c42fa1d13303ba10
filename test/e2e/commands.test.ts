// SPDX-License-Identifier: Apache-2.0
/**
 * Every user command through a real Synapse: its happy path and its wrong-argument path, and the
 * HTML version of replies that name commands.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sendContactRequest } from "../../refserver/http/address-book.js";
import { commandEvent, commandUntil } from "./harness/commands.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

describe("user commands against a real Synapse", () => {
  let env: E2EEnv;
  let alice: HumanClient;
  let mgmt: string;
  const say = (text: string) => env.command(alice, mgmt, text);
  const skypeAlice = () => env.skype.world.mustFind("alice@hotmail.co.uk");
  const key = (id: string) => env.skype.world.mustFind(id).key;

  before(async () => {
    env = await E2EEnv.create();
    alice = await env.human("alice");
    mgmt = await env.openManagementRoom(alice);
  });
  after(async () => {
    await env?.close();
  });

  test("help lists the commands by group with an example each, as HTML with <code>", async () => {
    const e = await commandEvent(env, alice, mgmt, "help");
    const body = String(e.content.body);
    for (const group of ["General:", "Account:", "Contacts:", "Contact requests:", "Blocking:"]) {
      assert.ok(body.includes(`\n${group}\n`), `group ${group}`);
    }
    assert.ok(!body.includes("Admin:"), "no admin commands for a user");
    assert.match(body, /• pm <contact> — .* \(e\.g\. pm Bob\)/);
    assert.match(body, /• presence <online\|busy\|away\|hidden> — /);
    const html = String(e.content.formatted_body);
    assert.equal(e.content.format, "org.matrix.custom.html");
    assert.match(html, /<code>accept &lt;id&gt;<\/code>/);
    assert.ok(!html.includes("`"), "no literal backticks in the HTML");
  });

  test("a reply that names a command carries an HTML version with <code>", async () => {
    const e = await commandEvent(env, alice, mgmt, "contacts");
    assert.equal(e.content.body, "You are not logged in to Skype. Send `login <e-mail>` or `login` first.");
    assert.equal(
      e.content.formatted_body,
      "You are not logged in to Skype. Send <code>login &lt;e-mail&gt;</code> or <code>login</code> first.",
    );
  });

  test("wrong arguments get the usage line, for every command", async () => {
    const cases: [string, string][] = [
      ["login a@b.c extra", "Usage: `login [e-mail]`, for example `login alice@example.org`."],
      ["cancel now", "Usage: `cancel`."],
      ["logout everything", "Usage: `logout`."],
      ["whoami really", "Usage: `whoami`."],
      ["pm", "Usage: `pm <contact>`, for example `pm Bob`."],
      ["start-chat", "Usage: `pm <contact>`, for example `pm Bob`."],
      [
        "add-contact",
        "Usage: `add-contact <e-mail or Skype name> [message]`, for example `add-contact bob@example.org Hi, it's Alice`.",
      ],
      ["requests please", "Usage: `requests`."],
      ["accept", "Usage: `accept <id>`, for example `accept carol@example.org`."],
      ["decline", "Usage: `decline <id>`, for example `decline carol@example.org`."],
      ["block", "Usage: `block <id>`, for example `block mallory@example.org`."],
      ["unblock", "Usage: `unblock <id>`, for example `unblock mallory@example.org`."],
      ["blocked all", "Usage: `blocked`."],
      ["presence", "Usage: `presence <online|busy|away|hidden>`, for example `presence busy`."],
      [
        "presence sleepy",
        '"sleepy" is not a status I know. Usage: `presence <online|busy|away|hidden>`, for example `presence busy`.',
      ],
      ["sync now", "Usage: `sync`."],
      ["reconnect now", "Usage: `reconnect`."],
      [
        "contacts page 0",
        "The page must be a number from 1. Usage: `contacts [search] [page <n>]`, for example `contacts bob`.",
      ],
    ];
    for (const [command, usage] of cases) assert.equal(await say(command), usage, command);
  });

  test("login links the account; whoami shows it with the bridge state", async () => {
    await env.linkSkype(alice, mgmt);
    const who = await waitFor(
      async () => {
        const r = await say("whoami");
        return r.includes("Bridge state: CONNECTED") ? r : undefined;
      },
      { what: "whoami to show CONNECTED", intervalMs: 300 },
    );
    assert.match(
      who,
      /^Linked Skype account: alice@hotmail\.co\.uk \(1:alice@hotmail\.co\.uk, 8:live:alice_1\)\.\nState: Connected/,
    );
  });

  test("login with a non-e-mail is refused; cancel abandons a waiting login", async () => {
    assert.match(await say("login not-an-email"), /^"not-an-email" is not an e-mail address/);
    assert.equal(await say("cancel"), "There is no login in progress.");
    assert.match(await say("login someone@example.org"), /^Send the password of someone@example\.org/);
    assert.equal(await say("cancel"), "Login cancelled.");
  });

  test("contacts lists, searches and pages", async () => {
    const all = await waitFor(
      async () => {
        const r = await say("contacts");
        return r.startsWith("Your Skype contacts (3)") ? r : undefined;
      },
      { what: "the contact list", timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(all.split("\n").length, 4);
    const bob = await say("contacts bob");
    assert.match(
      bob,
      /^Your Skype contacts matching "bob" \(1\); send `pm <name>` to chat:\n• Bob Builder — /,
    );
    assert.equal(
      await say("contacts nobody-at-all"),
      'None of your 3 Skype contacts matches "nobody-at-all".',
    );
    assert.equal(await say("contacts page 2"), "There is 1 page.");
  });

  test("pm and its alias start-chat open the chat with a contact", async () => {
    const reply = await say("start-chat dave");
    const roomId = /matrix\.to\/#\/(!\S+) /.exec(reply)?.[1];
    assert.ok(roomId, reply);
    assert.match(await say("pm Dave Lister"), new RegExp(roomId.replace(/[.$!]/g, "\\$&")));
    assert.match(await say("pm e"), /^"e" matches .*Dave Lister \(dave\.lister\).*; be more precise/);
    assert.match(await say("pm nobody-like-this"), /^No contact matches "nobody-like-this"/);
  });

  test("add-contact sends a request", async () => {
    assert.equal(
      await say("add-contact nolink@outlook.com Hello there"),
      "Sent a contact request to nolink@outlook.com. Their chat appears here once they accept.",
    );
    assert.equal(env.skype.world.mustFind("nolink@outlook.com").pending.get(skypeAlice().key), "Hello there");
  });

  test("requests lists pending requests; accept takes one by name", async () => {
    const list = await waitFor(
      async () => {
        const r = await say("requests");
        return r.includes("Carol") ? r : undefined;
      },
      { what: "carol's request to be listed", timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.match(
      list,
      /^Contact requests waiting for your answer \(1\):\n• Carol Ånström \(carol@live\.com\) — “Hi Alice, it's Carol from work”/,
    );
    assert.match(await say("accept carol"), /^Accepted: Carol Ånström is now one of your Skype contacts\./);
    assert.ok(skypeAlice().contacts.has(key("carol@live.com")));
    assert.equal(await say("requests"), "No contact request is waiting for your answer.");
    assert.match(await say("accept nobody matches this"), /^No one matches "nobody matches this"/);
  });

  test("decline refuses a request given by e-mail", async () => {
    const w = env.skype.world;
    sendContactRequest(w, w.mustFind("mallory@hotmail.com"), w.mustFind("bob@outlook.com"), "unrelated");
    sendContactRequest(w, w.mustFind("zed@outlook.com"), skypeAlice(), "Hi Alice");
    await waitFor(async () => ((await say("requests")).includes("Zed") ? true : undefined), {
      what: "zed's request to be listed",
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    assert.match(await say("decline zed"), /^Declined the contact request from Zed Twofactor\./);
    assert.ok(!skypeAlice().pending.has(key("zed@outlook.com")));
    assert.ok(!skypeAlice().contacts.has(key("zed@outlook.com")));
  });

  test("block, blocked and unblock change the block list on Skype", async () => {
    assert.match(await say("blocked"), /^You blocked 1 on Skype:\n• Mallory \(live:mallory\)/);
    assert.match(await say("block dave"), /^Blocked Dave Lister \(dave\.lister\) on Skype\./);
    assert.ok(skypeAlice().blocked.has(key("dave.lister")));
    assert.match(await say("blocked"), /^You blocked 2 on Skype:/);
    assert.match(await say("unblock mallory"), /^Unblocked Mallory \(live:mallory\) on Skype\./);
    assert.ok(!skypeAlice().blocked.has(key("mallory@hotmail.com")));
    assert.match(await say("unblock mallory@hotmail.com"), /^Could not unblock .*: they are not blocked\./);
  });

  test("presence sets the Skype status and leaves the Matrix presence alone", async () => {
    const before = (await alice.getPresenceStatus()).state;
    assert.equal(
      await say("presence busy"),
      "Your Skype status is now busy. Your Matrix presence is unchanged.",
    );
    await waitFor(
      () =>
        env.skype.msnp.endpoints().some((e) => e.identities.includes("8:live:alice_1") && e.status === "BSY"),
      { what: "the status on Skype" },
    );
    assert.equal(
      await say("presence online"),
      "Your Skype status is now online. Your Matrix presence is unchanged.",
    );
    await waitFor(
      () =>
        env.skype.msnp.endpoints().some((e) => e.identities.includes("8:live:alice_1") && e.status === "NLN"),
      { what: "the status back online" },
    );
    assert.equal((await alice.getPresenceStatus()).state, before);
  });

  test("sync re-reads contacts and tells when it is done", async () => {
    const done = await commandUntil(env, alice, mgmt, "sync", /^Sync done|^The sync did not finish/);
    assert.match(done, /^Sync done in [\d.]+ s: 4 contacts, 0 contact requests waiting\.$/);
  });

  test("reconnect gives a fresh connection", async () => {
    const before = env.skype.msnp.endpoints().find((e) => e.ready && e.identities.includes("8:live:alice_1"));
    assert.ok(before);
    const reply = await commandUntil(env, alice, mgmt, "reconnect", /^Connected to Skype|^Still connecting/);
    assert.equal(reply, "Connected to Skype as live:alice_1.");
    await waitFor(
      () =>
        env.skype.msnp
          .endpoints()
          .some(
            (e) => e.ready && e.identities.includes("8:live:alice_1") && e.connection !== before.connection,
          ),
      { what: "a new connection" },
    );
  });

  test("commands work in a portal with the !skype prefix", async () => {
    const portal = /matrix\.to\/#\/(!\S+) /.exec(await say("pm bob"))![1]!;
    await alice.joinRoom(portal);
    const reply = await env.command(alice, portal, "!skype contacts bob");
    assert.match(reply, /^Your Skype contacts matching "bob" \(1\)/);
  });

  test("logout unlinks; whoami then shows LOGGED_OUT", async () => {
    assert.equal(await say("logout"), "Logged out of Skype. The bridge has forgotten your tokens.");
    assert.match(await say("whoami"), /^You are not logged in to Skype\..*\nBridge state: LOGGED_OUT$/s);
  });
});
