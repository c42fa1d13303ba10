// SPDX-License-Identifier: Apache-2.0
/**
 * Child process for outbox.test.ts: queues outbox entries in a loop and prints each id once its
 * write has returned (committed), until the parent kills it with SIGKILL.
 */
import { openStore } from "../../../src/store/index.js";
import { ALICE, BOB_DM_ROOM, KEY_A, seedUserAndPortal } from "./helpers.js";

const path = process.argv[2];
if (!path) throw new Error("usage: kill-writer.ts <db path>");
const store = openStore({ path, key: KEY_A });
seedUserAndPortal(store);
store.users.setRefreshToken(ALICE, "token-before-kill");
let n = 0;
const step = (): void => {
  for (let i = 0; i < 20; i++, n++) {
    const { row } = store.outbox.enqueue({
      receiver: ALICE,
      conversation: "8:live:bob_1",
      clientMessageId: String(1000 + n),
      eventId: `$ev${n}`,
      roomId: BOB_DM_ROOM,
      payload: { text: `message ${n}`, padding: "x".repeat(500) },
    });
    process.stdout.write(`${row.id}\n`);
  }
  setImmediate(step);
};
step();
