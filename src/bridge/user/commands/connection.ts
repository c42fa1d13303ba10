// SPDX-License-Identifier: Apache-2.0
/**
 * The Skype connection from the management room: `presence <status>` (published on Skype only; the
 * user's own Matrix presence is theirs and is not touched), `sync` (re-reads contacts and the
 * address book, telling how it goes when it takes a while), `reconnect` (a fresh connection).
 * `admin resync` and `admin reconnect` use the same steps for another user.
 */
import { SkypeErrorCode, isSkypeError } from "../../../skype/errors.js";
import type { PresenceStatus } from "../../../skype/msnp/types.js";
import { describeState } from "../../../sessions/state-messages.js";
import type { Session, SessionManager, SessionState } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import { Logger, errorText } from "../../../util/logger.js";
import { sessionOf } from "./contacts.js";
import { CommandError, UsageError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.connection");

/** The statuses a user may set, and their MSNP codes. */
export const PRESENCE_CODES: Readonly<Record<string, PresenceStatus>> = {
  online: "NLN",
  busy: "BSY",
  away: "AWY",
  hidden: "HDN",
};

export interface ConnectionDeps {
  /** `reconnect` is an optional capability of the session manager. */
  sessions: Pick<SessionManager, "get" | "reconnect">;
  store: Pick<Store, "users" | "pendingRequests">;
  /** Resolves once the bridge has applied the contacts the session emitted so far (puppets). */
  contactsApplied(mxid: string): Promise<void>;
  /** First progress note after this long, then every `progressEveryMs` (default 5 s and 10 s). */
  progressAfterMs?: number;
  progressEveryMs?: number;
  /** How long `reconnect` waits to tell the outcome (default 30 s). */
  settleTimeoutMs?: number;
}

/** Resolves with the session's state once it is not `connecting`, or after `ms` with whatever it is. */
export function settled(session: Session, ms: number): Promise<SessionState> {
  if (session.state.kind !== "connecting") return Promise.resolve(session.state);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      session.off("state", onState);
      resolve(session.state);
    };
    const onState = (s: SessionState): void => {
      if (s.kind !== "connecting") done();
    };
    const timer = setTimeout(done, ms);
    session.on("state", onState);
  });
}

/** Sentence for a failed Skype operation that needs the connection. */
function offlineText(e: unknown): string {
  if (isSkypeError(e) && (e.code === SkypeErrorCode.NotConnected || e.retryable)) {
    return "your Skype connection is not up right now; try again once it is (send `whoami` to see its state)";
  }
  return isSkypeError(e) ? `Skype refused it (${e.code})` : "an unexpected error occurred";
}

export class ConnectionCommands {
  constructor(private readonly deps: ConnectionDeps) {}

  commands(): Command[] {
    return [
      {
        name: "presence",
        usage: "presence <online|busy|away|hidden>",
        summary: "set your status on Skype (your Matrix presence stays as it is)",
        example: "presence busy",
        group: "Account",
        args: { min: 1, max: 1 },
        run: (ctx, args) => this.presence(ctx, args[0]!),
      },
      {
        name: "sync",
        usage: "sync",
        summary: "re-read your Skype contacts and address book now",
        group: "Account",
        args: { max: 0 },
        run: (ctx) => this.sync(ctx, ctx.sender),
      },
      {
        name: "reconnect",
        usage: "reconnect",
        summary: "drop your Skype connection and connect again",
        group: "Account",
        args: { max: 0 },
        run: (ctx) => this.reconnect(ctx, ctx.sender),
      },
    ];
  }

  private async presence(ctx: CommandContext, word: string): Promise<void> {
    const status = PRESENCE_CODES[word.toLowerCase()];
    if (!status) throw new UsageError(`"${word}" is not a status I know.`);
    const session = sessionOf(this.deps.sessions, ctx.sender);
    try {
      await session.setPresence(status);
    } catch (e) {
      log.info("setting presence failed", { user: ctx.sender, error: errorText(e) });
      throw new CommandError("presence failed", `Could not set your Skype status: ${offlineText(e)}.`);
    }
    await ctx.reply(`Your Skype status is now ${word.toLowerCase()}. Your Matrix presence is unchanged.`);
  }

  /** Re-reads `mxid`'s contacts, telling `ctx` how it goes. */
  async sync(ctx: CommandContext, mxid: string): Promise<void> {
    const session = this.deps.sessions.get(mxid);
    if (!session) {
      const who = mxid === ctx.sender ? "You are" : `${mxid} is`;
      throw new CommandError("not linked", `${who} not logged in to Skype.`);
    }
    await ctx.reply("Re-reading the Skype contacts and address book…");
    const started = Date.now();
    const every = this.deps.progressEveryMs ?? 10_000;
    let ticker: NodeJS.Timeout | undefined;
    const first = setTimeout(() => {
      const note = (): void =>
        void ctx
          .reply(`Still syncing: ${session.contacts().length} contacts read so far…`)
          .catch(() => undefined);
      note();
      ticker = setInterval(note, every);
    }, this.deps.progressAfterMs ?? 5000);
    try {
      await session.resyncContacts();
      await this.deps.contactsApplied(mxid);
    } catch (e) {
      log.info("sync failed", { user: mxid, error: errorText(e) });
      throw new CommandError("sync failed", `The sync did not finish: ${offlineText(e)}.`);
    } finally {
      clearTimeout(first);
      clearInterval(ticker);
    }
    const requests = this.deps.store.pendingRequests.list(mxid, "pending").length;
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    await ctx.reply(
      `Sync done in ${seconds} s: ${session.contacts().length} contacts, ${requests} contact request${requests === 1 ? "" : "s"} waiting.`,
    );
  }

  /** Gives `mxid` a fresh Skype connection, telling `ctx` how it went. */
  async reconnect(ctx: CommandContext, mxid: string): Promise<void> {
    const manager = this.deps.sessions;
    if (!manager.reconnect) {
      throw new CommandError(
        "unsupported",
        "Reconnecting is not available in this version of the bridge yet.",
      );
    }
    const self = mxid === ctx.sender;
    const row = this.deps.store.users.get(mxid);
    if (!row?.hasRefreshToken) {
      throw new CommandError(
        "not linked",
        self
          ? "You are not logged in to Skype. Send `login <e-mail>` or `login` first."
          : `${mxid} is not logged in to Skype.`,
      );
    }
    await ctx.reply("Reconnecting to Skype…");
    const session = await manager.reconnect(mxid);
    if (!session)
      throw new CommandError(
        "reconnect failed",
        "The connection could not be restarted; the bridge's log has the details.",
      );
    const state = await settled(session, this.deps.settleTimeoutMs ?? 30_000);
    const account = { skypename: row.skypeName ?? undefined, email: row.accountEmail ?? undefined };
    const text =
      state.kind === "connecting"
        ? "Still connecting; you will be told in the management room if it fails."
        : describeState(state, account).text;
    await ctx.reply(self ? text : `${mxid}: ${text}`);
  }
}
