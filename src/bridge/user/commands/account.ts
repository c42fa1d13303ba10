// SPDX-License-Identifier: Apache-2.0
/**
 * Linking a Skype account from the management room: `login` (browser flow: the user pastes the
 * final URL back), `login <e-mail>` (password flow: the next message is the password), `cancel`,
 * `logout`, `whoami`. While a login waits for input, the user's next message in the management room
 * is that input, not a command: it is redacted at once (a password, or an address holding tokens)
 * and never quoted back.
 *
 * A waiting login is recorded in the store (room, flow, e-mail, expiry; never the secret), so a
 * restart, or the inbox replaying the password message after a crash, still treats that message
 * as the secret: the sign-in resumes with a new LoginProcess (the OAuth `state` is fixed by PROFILE
 * §2, so a pasted address from before the restart still matches). A login waits at most
 * {@link LOGIN_TIMEOUT_MS} (and says so when it times out); after that a message that is no command is still taken for a late
 * secret and removed, so an expired login never swallows a command and never echoes a password.
 */
import { LoginProcess } from "../../../skype/auth/login-process.js";
import { isSkypeError, SkypeErrorCode } from "../../../skype/errors.js";
import type { SkypeEndpoints } from "../../../skype/model.js";
import type { SessionManager } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import { Logger, errorText } from "../../../util/logger.js";
import { loginFailureText } from "./login-failures.js";
import type { Command, CommandContext } from "./types.js";

export { loginFailureText } from "./login-failures.js";

const log = new Logger("bridge.login");

/** How long a login waits for the user's password or pasted address. */
export const LOGIN_TIMEOUT_MS = 5 * 60_000;

/** A login waiting for input, as stored (no secret in it). */
interface PendingLogin {
  flow: "password" | "browser";
  email?: string;
  roomId: string;
  expiresTs: number;
}

const pendingKey = (mxid: string): string => `login.pending.${mxid}`;

export interface AccountCommandDeps {
  endpoints: SkypeEndpoints;
  sessions: SessionManager;
  store: Store;
  /** Redacts a message in a room as the bot (to remove a typed password). */
  redact(roomId: string, eventId: string, reason: string): Promise<void>;
  /** True when `name` is a command (an expired login lets commands through). */
  isCommand(name: string): boolean;
  /** Tells the user in a room (the login's timeout notice, a login an admin started for them). */
  notice(roomId: string, text: string, html?: string): Promise<void>;
  now?: () => number;
  /** How long a login waits for input (default {@link LOGIN_TIMEOUT_MS}). */
  loginTimeoutMs?: number;
}

export class AccountCommands {
  /** Running sign-in processes (a restart loses them; the stored record brings a new one). */
  private readonly processes = new Map<string, LoginProcess>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly deps: AccountCommandDeps) {
    this.now = deps.now ?? Date.now;
    this.timeoutMs = deps.loginTimeoutMs ?? LOGIN_TIMEOUT_MS;
  }

  /** The user's waiting login, expired or not. */
  private pendingOf(mxid: string): PendingLogin | undefined {
    const raw = this.deps.store.meta.get(pendingKey(mxid));
    if (raw === undefined) return undefined;
    try {
      const p = JSON.parse(raw) as PendingLogin;
      if ((p.flow === "password" || p.flow === "browser") && typeof p.roomId === "string") return p;
    } catch {
      // An unreadable record is no login.
    }
    this.clear(mxid);
    return undefined;
  }

  private begin(mxid: string, process: LoginProcess, p: Omit<PendingLogin, "expiresTs">): void {
    const record: PendingLogin = { ...p, expiresTs: this.now() + this.timeoutMs };
    this.deps.store.meta.set(pendingKey(mxid), JSON.stringify(record));
    this.processes.set(mxid, process);
    const timer = setTimeout(() => void this.expire(mxid, record), this.timeoutMs);
    timer.unref();
    this.timers.set(mxid, timer);
  }

  private clear(mxid: string): void {
    this.deps.store.meta.delete(pendingKey(mxid));
    this.processes.get(mxid)?.cancel();
    this.processes.delete(mxid);
    clearTimeout(this.timers.get(mxid));
    this.timers.delete(mxid);
  }

  /** The login timed out: say so, so the user does not type the secret into a room that no longer expects it. */
  private async expire(mxid: string, record: PendingLogin): Promise<void> {
    this.timers.delete(mxid);
    if (this.pendingOf(mxid)?.expiresTs !== record.expiresTs) return;
    this.processes.get(mxid)?.cancel();
    this.processes.delete(mxid);
    await this.deps
      .notice(record.roomId, "The login timed out. Send `login` to start again.")
      .catch((e: unknown) => log.debug("could not tell about a timed-out login", { error: errorText(e) }));
  }

  /** Abandons the user's waiting login (their management room is no longer private). */
  forget(mxid: string): void {
    this.clear(mxid);
  }

  /**
   * Starts a login for `mxid` on an admin's request: the prompt goes to the user's management room
   * `roomId`, and their next message there is the answer, as if they had sent `login` themselves.
   * Returns false (doing nothing) when a login already waits for them.
   */
  async startFor(mxid: string, roomId: string, email?: string): Promise<boolean> {
    const waiting = this.pendingOf(mxid);
    if (waiting && waiting.expiresTs >= this.now()) return false;
    const ctx: CommandContext = {
      sender: mxid,
      roomId,
      eventId: "",
      isAdmin: false,
      reply: (text, html) => this.deps.notice(roomId, text, html),
    };
    await this.deps.notice(roomId, "An admin of this bridge started a Skype login for you.");
    await this.login(ctx, email ? [email] : []);
    return true;
  }

  /** Stops the timeout timers (shutdown); the stored records stay. */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  commands(): Command[] {
    return [
      {
        name: "login",
        usage: "login [e-mail]",
        summary:
          "link your Skype account (with an e-mail: password sign-in; without: sign in in your browser)",
        example: "login alice@example.org",
        group: "Account",
        args: { max: 1 },
        run: (ctx, args) => this.login(ctx, args),
      },
      {
        name: "cancel",
        usage: "cancel",
        summary: "abandon a login that is waiting for your input",
        group: "Account",
        args: { max: 0 },
        run: async (ctx) => {
          const p = this.pendingOf(ctx.sender);
          this.clear(ctx.sender);
          if (!p || p.expiresTs < this.now()) return ctx.reply("There is no login in progress.");
          return ctx.reply("Login cancelled.");
        },
      },
      {
        name: "logout",
        usage: "logout",
        summary: "unlink your Skype account, stop its connection and forget its tokens",
        group: "Account",
        args: { max: 0 },
        run: async (ctx) => {
          const user = this.deps.store.users.get(ctx.sender);
          if (!this.deps.sessions.get(ctx.sender) && !user?.skypeMri && !user?.liveMri) {
            return ctx.reply("You are not logged in to Skype.");
          }
          await this.deps.sessions.unlink(ctx.sender);
          return ctx.reply("Logged out of Skype. The bridge has forgotten your tokens.");
        },
      },
    ];
  }

  /**
   * Consumes the message when a login waits for this user's input in this room: it is redacted and
   * used, never read as a command or quoted. After the timeout, a command passes and anything else
   * is removed as a late secret.
   */
  async intercept(ctx: CommandContext, body: string): Promise<boolean> {
    const p = this.pendingOf(ctx.sender);
    if (!p || p.roomId !== ctx.roomId) return false;
    const text = body.trim();
    if (/^(!skype\s+)?cancel$/i.test(text)) return false;
    if (p.expiresTs < this.now()) {
      this.clear(ctx.sender);
      const first =
        text
          .replace(/^!skype\s+/i, "")
          .split(/\s+/)[0]
          ?.toLowerCase() ?? "";
      if (this.deps.isCommand(first)) return false;
      await this.redact(ctx, p);
      await ctx.reply(
        "That looked like an answer to a login that had timed out, so I removed it. Send `login` to start again.",
      );
      return true;
    }
    await this.redact(ctx, p);
    let process = this.processes.get(ctx.sender);
    if (!process) {
      // The bridge restarted while the login waited: a new process takes the answer.
      process = new LoginProcess(this.deps.endpoints, { logger: log });
      process.start(p.flow);
      this.processes.set(ctx.sender, process);
    }
    if (p.flow === "password")
      await this.submit(ctx, process, { login: p.email, password: body.replace(/\r?\n$/, "") });
    else await this.submit(ctx, process, { redirect_url: text });
    return true;
  }

  private async redact(ctx: CommandContext, p: PendingLogin): Promise<void> {
    const what = p.flow === "password" ? "password" : "sign-in address";
    await this.deps.redact(ctx.roomId, ctx.eventId, what).catch((e: unknown) => {
      log.warn("could not redact a login answer", { room: ctx.roomId, error: errorText(e) });
      void ctx
        .reply(`I could not delete your ${what} message; please delete it yourself.`)
        .catch(() => undefined);
    });
  }

  private async login(ctx: CommandContext, args: string[]): Promise<void> {
    const waiting = this.pendingOf(ctx.sender);
    if (waiting && waiting.expiresTs >= this.now()) {
      await ctx.reply("You already have a login in progress. Send `cancel` to abandon it first.");
      return;
    }
    this.clear(ctx.sender);
    const process = new LoginProcess(this.deps.endpoints, { logger: log });
    const email = args[0];
    if (email) {
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
        await ctx.reply(`"${email}" is not an e-mail address. Send \`login <e-mail>\` or just \`login\`.`);
        return;
      }
      process.start("password");
      this.begin(ctx.sender, process, { flow: "password", email, roomId: ctx.roomId });
      await ctx.reply(
        (await ctx.canRedact?.()) === false
          ? `Send the password of ${email} as your next message. I cannot delete messages in this room (I lack the power to redact here), so delete your password message yourself right after sending it — or send \`cancel\` and then \`login\` without an e-mail to sign in through your browser instead.`
          : `Send the password of ${email} as your next message. I will delete (redact) it right away. Send \`cancel\` to stop.`,
      );
      return;
    }
    const step = process.start("browser");
    this.begin(ctx.sender, process, { flow: "browser", roomId: ctx.roomId });
    const url = step.type === "user_input" ? (step.url ?? "") : "";
    await ctx.reply(
      `Open this address and sign in to your Microsoft account:\n${url}\n\nWhen you end up on a blank page, copy the whole address from your browser's address bar (or just the part after #) and send it here. Send \`cancel\` to stop.`,
      `<p>Open <a href="${url.replace(/"/g, "&quot;")}">this address</a> and sign in to your Microsoft account.</p><p>When you end up on a blank page, copy the whole address from your browser's address bar (or just the part after #) and send it here. Send <code>cancel</code> to stop.</p>`,
    );
  }

  private async submit(
    ctx: CommandContext,
    process: LoginProcess,
    input: Record<string, string | undefined>,
  ): Promise<void> {
    let step;
    try {
      step = await process.submitUserInput(input);
    } catch (e) {
      if (isSkypeError(e) && e.code === SkypeErrorCode.Aborted) return;
      log.info("login failed", { user: ctx.sender, error: errorText(e) });
      this.clear(ctx.sender);
      await ctx.reply(loginFailureText(e));
      return;
    }
    this.clear(ctx.sender);
    if (step.type !== "complete") {
      await ctx.reply("Login failed: the sign-in did not finish. Send `login` to try again.");
      return;
    }
    const r = step.result;
    await this.deps.sessions.link(ctx.sender, r);
    const ids = [r.identities.msa, r.identities.skype].filter((x): x is string => Boolean(x));
    await ctx.reply(
      `Linked to Skype as ${r.profile.displayName} (${ids.join(", ")}). Your contacts' messages will appear in rooms of their own.`,
    );
  }
}
