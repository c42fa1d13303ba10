// SPDX-License-Identifier: Apache-2.0
/** The `cursors` table: the last Skype Message-ID seen per wire conversation, for catch-up. */
import { type Db, transaction } from "../db.js";
import type { CursorRepo, CursorRow } from "../types.js";
import { compareMessageIds } from "../../util/message-ids.js";
import { type Clock, checkText } from "./sql.js";

interface RawCursor {
  receiver: string;
  conversation: string;
  last_message_id: string;
  updated_ts: number;
}

export class SqliteCursorRepo implements CursorRepo {
  readonly #get;
  readonly #set;
  readonly #byReceiver;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    this.#get = db
      .prepare<[string, string], string>(
        "SELECT last_message_id FROM cursors WHERE receiver = ? AND conversation = ?",
      )
      .pluck();
    this.#set = db.prepare<[string, string, string, number]>(
      `INSERT INTO cursors (receiver, conversation, last_message_id, updated_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (receiver, conversation) DO UPDATE SET last_message_id = excluded.last_message_id,
         updated_ts = excluded.updated_ts`,
    );
    this.#byReceiver = db.prepare<[string], RawCursor>(
      "SELECT * FROM cursors WHERE receiver = ? ORDER BY conversation",
    );
  }

  get(receiver: string, conversation: string): string | undefined {
    return this.#get.get(receiver, conversation);
  }

  advance(receiver: string, conversation: string, messageId: string): boolean {
    checkText(receiver, "receiver");
    checkText(conversation, "conversation");
    checkText(messageId, "messageId");
    return transaction(this.db, () => {
      const current = this.#get.get(receiver, conversation);
      if (current !== undefined && compareMessageIds(messageId, current) <= 0) return false;
      this.#set.run(receiver, conversation, messageId, this.now());
      return true;
    });
  }

  listByReceiver(receiver: string): CursorRow[] {
    return this.#byReceiver.all(receiver).map((r) => ({
      receiver: r.receiver,
      conversation: r.conversation,
      lastMessageId: r.last_message_id,
      updatedTs: r.updated_ts,
    }));
  }
}
