// SPDX-License-Identifier: Apache-2.0
/**
 * Skype → Matrix: subscribes to each session's events and bridges them into portals, one FIFO
 * queue per portal (so a burst arrives in order, and an edit never overtakes its message), with
 * deterministic transaction ids and the message map so nothing is posted twice (see
 * s2m-messages.ts). Presence goes to puppets, contact lists to the person/puppet tables.
 *
 * The user's own messages from another Skype endpoint (`fromMe`) are posted by the user's own
 * puppet (the person of their Skype identities), whose per-room name is "<name> (you, on Skype)":
 * never by the contact's puppet, and without double puppeting.
 */
import type { Session } from "../sessions/types.js";
import { KeyedQueue } from "../util/keyed-queue.js";
import { Logger, errorText } from "../util/logger.js";
import type { BridgeContext } from "./context.js";
import { isThreadId, type Portals } from "./portals.js";
import { selfPuppet, type S2MDeps } from "./s2m-deps.js";
import { DEFAULT_RETRY, matrixErrorText, type RetryPolicy } from "./s2m-matrix.js";
import { handleDelete, handleEdit, handleMessage, handleTyping, handleUnhandled } from "./s2m-messages.js";
import { handleThreadActivity, handleThreadUpdate } from "./s2m-threads.js";

const log = new Logger("bridge.skype-to-matrix");

/** Options of {@link SkypeToMatrix}. */
export interface SkypeToMatrixOptions {
  /** Retries of Matrix sends (default: about a minute of backoff). */
  retry?: RetryPolicy;
  /** How long a puppet shows as typing without a new typing signal (default 20 s). */
  typingTimeoutMs?: number;
  now?: () => number;
}

/** Bridges every session's Skype events into Matrix. */
export class SkypeToMatrix {
  private readonly queue = new KeyedQueue((key, e) =>
    log.error("a Skype event could not be bridged", { queue: key.split("\n")[1], error: describe(e) }),
  );
  private readonly deps: S2MDeps;
  private readonly attached = new WeakSet<Session>();

  constructor(
    private readonly ctx: BridgeContext,
    private readonly portals: Portals,
    opts: SkypeToMatrixOptions = {},
  ) {
    this.deps = {
      ctx,
      portals,
      puppets: portals.puppets,
      ops: portals.puppets.ops,
      members: portals.members,
      retry: opts.retry ?? DEFAULT_RETRY,
      typingTimeoutMs: opts.typingTimeoutMs ?? 20_000,
      typing: new Set(),
      threads: new Map(),
      log,
      now: opts.now ?? Date.now,
    };
  }

  /** Subscribes to `session`'s events (idempotent). Call before the session starts. */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    const d = this.deps;
    const user = session.mxid;
    this.linkSelf(session);
    // The user's own puppet gets its global profile now, long before it first joins a room: a
    // profile change makes Synapse rewrite the member events of rooms already joined, which would
    // overwrite the per-room "(you, on Skype)" name if it raced with the first join.
    void this.queue.push(`self\n${user}`, async () => {
      if (this.portals.selfIdentities(user).length > 0) await selfPuppet(d, session);
    });
    session.on("message", (e) => this.push(session, e.conversation, () => handleMessage(d, session, e)));
    session.on("edit", (e) => this.push(session, e.conversation, () => handleEdit(d, session, e)));
    session.on("delete", (e) => this.push(session, e.conversation, () => handleDelete(d, session, e)));
    session.on("typing", (e) => this.push(session, e.conversation, () => handleTyping(d, session, e), false));
    session.on("unhandledMessage", (e) =>
      this.push(session, e.conversation, () => handleUnhandled(d, session, e)),
    );
    session.on("threadUpdate", (t) => this.push(session, t.id, () => handleThreadUpdate(d, session, t)));
    session.on("threadActivity", (e) =>
      this.push(session, e.conversation, () => handleThreadActivity(d, session, e)),
    );
    session.on("presence", (p) => {
      if (p.self || this.portals.isSelf(user, p.identity)) return;
      void this.queue.push(`presence\n${p.identity}`, () => d.puppets.setPresence(p));
    });
    session.on("contacts", (contacts) => {
      void this.queue.push(`contacts\n${user}`, async () => {
        this.linkSelf(session);
        await d.puppets.syncContacts(contacts);
      });
    });
    session.on("caughtUp", ({ messages }) => log.info("caught up with Skype", { user, messages }));
  }

  /** The user's `1:` and `8:` identities are one person (their own puppet). */
  private linkSelf(session: Session): void {
    const ids = this.portals.selfIdentities(session.mxid);
    if (ids.length < 2) return;
    try {
      this.ctx.store.persons.link(ids);
    } catch (e) {
      log.warn("could not link the user's own identities", { user: session.mxid, error: errorText(e) });
    }
  }

  /**
   * Queues `task` on the portal of `conversation`: a thread id, or the person of a contact MRI (both
   * identities of a person share one queue, as they share one portal).
   */
  private push(session: Session, conversation: string, task: () => Promise<void>, createPerson = true): void {
    let portalKey = conversation;
    try {
      if (!isThreadId(conversation)) {
        if (this.portals.isSelf(session.mxid, conversation)) {
          log.debug("ignoring a conversation with the user's own identity", { user: session.mxid });
          return;
        }
        const { persons } = this.ctx.store;
        const person = createPerson
          ? this.portals.puppets.personFor(conversation)
          : persons.getByIdentity(conversation);
        if (!person) return;
        portalKey = person.id;
      }
    } catch (e) {
      log.warn("dropping an event for an unusable conversation id", {
        user: session.mxid,
        error: errorText(e),
      });
      return;
    }
    void this.queue.push(`${session.mxid}\n${portalKey}`, task);
  }

  /** Resolves once every event received so far has been handled (tests, shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}

function describe(e: unknown): string {
  const m = matrixErrorText(e);
  return m === "unknown error" ? errorText(e) : m;
}
