// SPDX-License-Identifier: Apache-2.0
// Where read horizons land in the message map (PROFILE §7.5): the newest Skype message by time or by id.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NewMessage } from "../../../src/store/index.js";
import { ALICE, BOB_DM_ROOM, open, seedUserAndPortal } from "./helpers.js";

const CONV = "8:live:bob_1";
const row = (
  eventId: string,
  skypeMessageId: string | null,
  sentTs: number,
  over: Partial<NewMessage> = {},
): NewMessage => ({
  receiver: ALICE,
  conversation: CONV,
  roomId: BOB_DM_ROOM,
  direction: "to_matrix",
  sender: CONV,
  eventId,
  skypeMessageId,
  sentTs,
  ...over,
});

void test("newestSkypeMessageAtOrBefore and newestSkypeMessageUpTo skip edits, other parts and rows without a Message-ID", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const m = store.messages;
  const nine = m.insert(row("$9", "9", 1000)).row;
  m.insert(row("$10", "10", 2000));
  m.insert(row("$mine", null, 2500, { direction: "to_skype", sender: ALICE, clientMessageId: "77" }));
  m.insert(row("$edit", "11", 2600, { editOf: nine.id }));
  m.insert(row("$part1", "10", 2700, { part: 1 }));
  m.insert(row("$99", "99", 3000));

  assert.equal(m.newestSkypeMessageAtOrBefore(BOB_DM_ROOM, 999), undefined);
  assert.equal(m.newestSkypeMessageAtOrBefore(BOB_DM_ROOM, 1000)?.eventId, "$9");
  assert.equal(m.newestSkypeMessageAtOrBefore(BOB_DM_ROOM, 2999)?.eventId, "$10");
  assert.equal(m.newestSkypeMessageAtOrBefore(BOB_DM_ROOM, 5000)?.eventId, "$99");
  assert.equal(m.newestSkypeMessageAtOrBefore("!other:example.org", 5000), undefined);

  // Decimal order, not text order: 10 > 9, and 98 lands on 10 (11 is an edit).
  assert.equal(m.newestSkypeMessageUpTo(ALICE, CONV, "9")?.eventId, "$9");
  assert.equal(m.newestSkypeMessageUpTo(ALICE, CONV, "10")?.eventId, "$10");
  assert.equal(m.newestSkypeMessageUpTo(ALICE, CONV, "98")?.eventId, "$10");
  assert.equal(m.newestSkypeMessageUpTo(ALICE, CONV, "0100")?.eventId, "$99");
  assert.equal(m.newestSkypeMessageUpTo(ALICE, CONV, "8"), undefined);
  assert.equal(m.newestSkypeMessageUpTo(ALICE, CONV, "x"), undefined);
  assert.equal(m.newestSkypeMessageUpTo(ALICE, "8:someone_else", "100"), undefined);
});
