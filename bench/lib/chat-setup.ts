// SPDX-License-Identifier: Apache-2.0
/**
 * The rooms P1 and P2 measure in, all seen by one human's /sync loop:
 * - the portal: a generated Skype account linked (through the store) to the human, its DM with
 *   contact 0, who is signed in with the project's MSNP client (so the bench sees routed messages);
 * - the Matrix baseline room: the human and a second Matrix user ("A → B on the same Synapse");
 * - the appservice room: the human and the minimal appservice's bot.
 */
import { randomBytes } from "node:crypto";
import { generatedNames } from "../../refserver/generate.js";
import { Arrivals } from "./arrivals.js";
import { linkThroughStore } from "./link.js";
import { until, type MatrixUser } from "./matrix.js";
import { SkypeContact } from "./skype-contact.js";
import type { BenchStack, BridgeProcess } from "./stack.js";

export interface ChatSetup {
  bridge: BridgeProcess;
  human: MatrixUser;
  /** The other Matrix user of the baseline room. */
  peer: MatrixUser;
  /** The minimal appservice's bot. */
  asBot: MatrixUser;
  contact: SkypeContact;
  /** The linked account's `8:` identity and contact 0's. */
  userMri: string;
  contactMri: string;
  portal: string;
  baselineRoom: string;
  appserviceRoom: string;
  /** Arrivals at the human's /sync (any room), at the contact's endpoint and at the minimal appservice. */
  atHuman: Arrivals;
  atContact: Arrivals;
  atAppservice: Arrivals;
  close(): Promise<void>;
}

export async function setUpChat(stack: BenchStack, opts: { nodeArgs?: string[] } = {}): Promise<ChatSetup> {
  const tag = randomBytes(3).toString("hex");
  const prefix = `chat${tag}`;
  const [account] = await stack.generate(prefix, 1, 3);
  const human = await stack.human(`human_${tag}`);
  const peer = await stack.human(`peer_${tag}`);
  linkThroughStore(stack.dbPath("chat.db"), stack.tokenKey, [{ mxid: human.userId, account: account! }]);
  const atHuman = new Arrivals();
  const atContact = new Arrivals();
  const atAppservice = new Arrivals();
  human.onEvent((e) => {
    if (e.type === "m.room.message" && e.sender !== human.userId) atHuman.note(String(e.content.body), e.at);
  });
  stack.appservice.onEvent((e) => {
    if (e.type === "m.room.message") atAppservice.note(String(e.content.body), e.at);
  });
  await human.startSync();
  const bridge = await stack.startBridge({ db: "chat.db", nodeArgs: opts.nodeArgs });
  const userMri = account!.identities[1];
  await until(
    async () => (await stack.readyIdentities()).has(userMri),
    "the linked account to connect",
    60_000,
  );
  const contactNames = generatedNames(prefix, 0, 0);
  const contactMri = `8:${contactNames.skypename}`;
  const contact = await SkypeContact.signIn(stack, contactNames);
  contact.onMessage((m) => atContact.note(m.body, m.at));

  // The portal: the contact's first message makes it and invites the human.
  await stack.control("/msnp/send", { from: contactMri, to: userMri, text: "warm-up" });
  const portal = await until(() => human.invites[0], "the portal's invite", 60_000);
  await human.join(portal);
  await atHuman.wait("warm-up", 60_000);
  // Matrix → Skype works too before anything is measured.
  await human.sendText(portal, "warm-up back");
  await atContact.wait("warm-up back", 60_000);

  const baselineRoom = await peer.createRoom({ preset: "private_chat", invite: [human.userId] });
  await human.join(baselineRoom);
  const asBot = stack.appservice.bot(stack.synapse.url, stack.synapse.domain);
  const appserviceRoom = await human.createRoom({ preset: "private_chat", invite: [asBot.userId] });
  await asBot.join(appserviceRoom);
  await peer.sendText(baselineRoom, "warm-up peer");
  await atHuman.wait("warm-up peer", 30_000);
  await human.sendText(appserviceRoom, "warm-up as");
  await atAppservice.wait("warm-up as", 30_000);
  await asBot.sendText(appserviceRoom, "warm-up as bot");
  await atHuman.wait("warm-up as bot", 30_000);

  return {
    bridge,
    human,
    peer,
    asBot,
    contact,
    userMri,
    contactMri,
    portal,
    baselineRoom,
    appserviceRoom,
    atHuman,
    atContact,
    atAppservice,
    async close() {
      human.stop();
      await contact.stop().catch(() => undefined);
      await bridge.stop("SIGTERM");
    },
  };
}
