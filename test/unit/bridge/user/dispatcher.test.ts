// SPDX-License-Identifier: Apache-2.0
/** The command dispatcher: grouped help, aliases, usage lines, one refusal for admin commands. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ADMIN_REFUSAL, CommandDispatcher } from "../../../../src/bridge/user/commands/dispatcher.js";
import {
  CommandError,
  type Command,
  type CommandContext,
} from "../../../../src/bridge/user/commands/types.js";

function setup(): {
  d: CommandDispatcher;
  ran: string[][];
  ctx: (isAdmin?: boolean) => CommandContext;
  replies: string[];
  htmls: (string | undefined)[];
} {
  const ran: string[][] = [];
  const replies: string[] = [];
  const htmls: (string | undefined)[] = [];
  const cmd = (c: Partial<Command> & Pick<Command, "name">): Command => ({
    usage: c.name,
    summary: `does ${c.name}`,
    run: (_ctx, args) => {
      ran.push([c.name, ...args]);
      return Promise.resolve();
    },
    ...c,
  });
  const d = new CommandDispatcher([
    cmd({ name: "help", group: "General", args: { max: 0 } }),
    cmd({
      name: "pm",
      aliases: ["start-chat"],
      usage: "pm <contact>",
      example: "pm Bob",
      group: "Contacts",
      args: { min: 1 },
    }),
    cmd({
      name: "presence",
      usage: "presence <status>",
      example: "presence busy",
      group: "Account",
      args: { min: 1, max: 1 },
    }),
    cmd({ name: "admin status", usage: "admin status", group: "Admin", adminOnly: true, args: { max: 0 } }),
    cmd({
      name: "boom",
      run: () => Promise.reject(new CommandError("x", "It went `wrong`.")),
    }),
    cmd({ name: "crash", run: () => Promise.reject(new Error("secret internals")) }),
  ]);
  return {
    d,
    ran,
    replies,
    htmls,
    ctx: (isAdmin = false) => ({
      sender: "@u:x",
      roomId: "!r:x",
      eventId: "$e",
      isAdmin,
      reply: (text, html) => {
        replies.push(text);
        htmls.push(html);
        return Promise.resolve();
      },
    }),
  };
}

void test("help groups the commands, gives one example each and hides admin commands from users", () => {
  const { d } = setup();
  const user = d.helpText(false);
  assert.match(user.text, /^Skype bridge commands/);
  assert.match(user.text, /\nGeneral:\n• help — does help/);
  assert.match(user.text, /\nAccount:\n• presence <status> — does presence \(e\.g\. presence busy\)/);
  assert.match(user.text, /\nContacts:\n• pm <contact> — does pm \(e\.g\. pm Bob\)/);
  assert.ok(!user.text.includes("admin status"));
  assert.ok(user.text.indexOf("General:") < user.text.indexOf("Account:"));
  assert.match(user.html, /<code>pm &lt;contact&gt;<\/code> — does pm \(e\.g\. <code>pm Bob<\/code>\)/);
  assert.ok(!/`/.test(user.html), "no literal backticks in the HTML");
  assert.match(d.helpText(true).text, /\nAdmin:\n• admin status/);
});

void test("aliases run the same command; `!skype` is stripped", async () => {
  const { d, ran, ctx } = setup();
  await d.dispatch(ctx(), "start-chat Dave Lister");
  await d.dispatch(ctx(), "!skype pm bob");
  assert.deepEqual(ran, [
    ["pm", "Dave", "Lister"],
    ["pm", "bob"],
  ]);
});

void test("wrong arguments get the usage line with its example, and the command does not run", async () => {
  const { d, ran, ctx, replies, htmls } = setup();
  await d.dispatch(ctx(), "pm");
  await d.dispatch(ctx(), "presence busy now");
  await d.dispatch(ctx(), "help me");
  assert.deepEqual(ran, []);
  assert.deepEqual(replies, [
    "Usage: `pm <contact>`, for example `pm Bob`.",
    "Usage: `presence <status>`, for example `presence busy`.",
    "Usage: `help`.",
  ]);
  assert.deepEqual(htmls, [undefined, undefined, undefined], "the room layer adds the HTML version");
});

void test("an admin command from a non-admin gets one refusal, whatever the subcommand", async () => {
  const { d, ran, ctx, replies } = setup();
  await d.dispatch(ctx(), "admin status");
  await d.dispatch(ctx(), "admin nonsense");
  await d.dispatch(ctx(), "admin");
  assert.deepEqual(replies, [ADMIN_REFUSAL, ADMIN_REFUSAL, ADMIN_REFUSAL]);
  assert.deepEqual(ran, []);
  await d.dispatch(ctx(true), "admin status");
  assert.deepEqual(ran, [["admin status"]]);
  await d.dispatch(ctx(true), "admin nonsense");
  assert.match(replies.at(-1)!, /^Unknown admin command "nonsense"\. Admin commands: `admin status`\.$/);
});

void test("unknown commands get the closest one; failures become replies, never silence", async () => {
  const { d, ctx, replies } = setup();
  await d.dispatch(ctx(), "hepl");
  await d.dispatch(ctx(), "start-caht x");
  await d.dispatch(ctx(), "boom");
  await d.dispatch(ctx(), "crash");
  await d.dispatch(ctx(), "!skype");
  assert.equal(
    replies[0],
    'Unknown command "hepl". Did you mean "help"? Send "help" for the list of commands.',
  );
  assert.match(replies[1]!, /Did you mean "start-chat"\?/);
  assert.equal(replies[2], "It went `wrong`.");
  assert.equal(
    replies[3],
    'Sorry, "crash" failed because of an internal error. The bridge\'s log has the details.',
  );
  assert.ok(!replies[3].includes("secret internals"));
  assert.match(replies[4] ?? "", /^Skype bridge commands/, "a bare prefix answers with help");
});
