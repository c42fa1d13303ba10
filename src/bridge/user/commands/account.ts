// SPDX-License-Identifier: Apache-2.0
/**
 * Linking a Skype account from the management room: `login` (browser flow: the user pastes the
 * final URL back), `login <e-mail>` (password flow: the next message is the password, redacted at
 * once), `cancel`, `logout`, `whoami`. While a login waits for input, the user's next message in
 * the management room is that input, not a command.
 */
import { LoginProcess } from "../../../skype/auth/login-process.js";
import { isSkypeError, SkypeErrorCode, type SkypeError } from "../../../skype/errors.js";
import type { SkypeEndpoints } from "../../../skype/model.js";
import { describeState } from "../../../sessions/state-messages.js";
import type { SessionManager } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import { Logger, errorText } from "../../../util/logger.js";
import type { Command, CommandContext } from "./types.js";

const log = new Logger("bridge.login");

interface PendingLogin {
  process: LoginProcess;
  flow: "password" | "browser";
  email?: string;
  roomId: string;
}

export interface AccountCommandDeps {
  endpoints: SkypeEndpoints;
  sessions: SessionManager;
  store: Store;
  /** Redacts a message in a room as the bot (to remove a typed password). */
  redact(roomId: string, eventId: string, reason: string): Promise<void>;
}

/** A user-facing sentence for a sign-in failure. Never contains secrets or raw server text beyond a short reason. */
export function loginFailureText(e: unknown): string {
  if (!isSkypeError(e)) return "Login failed because of an internal error. The bridge's log has the details.";
  const err: SkypeError = e;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the rest share one message
  switch (err.code) {
    case SkypeErrorCode.WrongPassword:
      return `Login failed: ${err.message.replace(/^the sign-in failed: /, "")} Send \`login <e-mail>\` to try again.`;
    case SkypeErrorCode.SecondFactor:
      return "Login failed: this account asks for a second verification step, which the password login cannot do. Send `login` (without an e-mail) to sign in through your browser instead.";
    case SkypeErrorCode.StateMismatch:
      return "Login failed: the address you pasted belongs to a different sign-in attempt. Send `login` to start again.";
    case SkypeErrorCode.BadRedirect:
      return "Login failed: that address holds no sign-in result. Paste the whole address of the blank page you end up on after signing in, or send `cancel`.";
    case SkypeErrorCode.AccountNotActive:
      return `Login failed: ${err.message}`;
    case SkypeErrorCode.Network:
      return "Login failed: the Skype sign-in servers could not be reached. Try again in a moment.";
    default:
      return `Login failed (${err.code}). Send \`login\` to try again.`;
  }
}

export class AccountCommands {
  private readonly pending = new Map<string, PendingLogin>();

  constructor(private readonly deps: AccountCommandDeps) {}

  commands(): Command[] {
    return [
      {
        name: "login",
        usage: "login [e-mail]",
        summary:
          "link your Skype account (with an e-mail: password sign-in; without: sign in in your browser)",
        run: (ctx, args) => this.login(ctx, args),
      },
      {
        name: "cancel",
        usage: "cancel",
        summary: "abandon a login that is waiting for your input",
        run: async (ctx) => {
          const p = this.pending.get(ctx.sender);
          if (!p) return ctx.reply("There is no login in progress.");
          p.process.cancel();
          this.pending.delete(ctx.sender);
          return ctx.reply("Login cancelled.");
        },
      },
      {
        name: "logout",
        usage: "logout",
        summary: "unlink your Skype account, stop its connection and forget its tokens",
        run: async (ctx) => {
          const user = this.deps.store.users.get(ctx.sender);
          if (!this.deps.sessions.get(ctx.sender) && !user?.skypeMri && !user?.liveMri) {
            return ctx.reply("You are not logged in to Skype.");
          }
          await this.deps.sessions.unlink(ctx.sender);
          return ctx.reply("Logged out of Skype. The bridge has forgotten your tokens.");
        },
      },
      {
        name: "whoami",
        usage: "whoami",
        summary: "show which Skype account is linked and the state of its connection",
        run: (ctx) => this.whoami(ctx),
      },
    ];
  }

  /** Consumes the message when a login waits for this user's input. */
  async intercept(ctx: CommandContext, body: string): Promise<boolean> {
    const p = this.pending.get(ctx.sender);
    if (!p || p.roomId !== ctx.roomId) return false;
    const text = body.trim();
    if (/^(!skype\s+)?cancel$/i.test(text)) return false;
    if (p.flow === "password") {
      await this.deps.redact(ctx.roomId, ctx.eventId, "password").catch((e: unknown) => {
        log.warn("could not redact a password message", { room: ctx.roomId, error: errorText(e) });
        void ctx
          .reply("I could not delete your password message; please delete it yourself.")
          .catch(() => undefined);
      });
      await this.submit(ctx, p, { login: p.email, password: body.replace(/\r?\n$/, "") });
    } else {
      await this.submit(ctx, p, { redirect_url: text });
    }
    return true;
  }

  private async login(ctx: CommandContext, args: string[]): Promise<void> {
    if (this.pending.has(ctx.sender)) {
      await ctx.reply("You already have a login in progress. Send `cancel` to abandon it first.");
      return;
    }
    const process = new LoginProcess(this.deps.endpoints, { logger: log });
    const email = args[0];
    if (email) {
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
        await ctx.reply(`"${email}" is not an e-mail address. Send \`login <e-mail>\` or just \`login\`.`);
        return;
      }
      process.start("password");
      this.pending.set(ctx.sender, { process, flow: "password", email, roomId: ctx.roomId });
      await ctx.reply(
        `Send the password of ${email} as your next message. I will delete (redact) it right away. Send \`cancel\` to stop.`,
      );
      return;
    }
    const step = process.start("browser");
    this.pending.set(ctx.sender, { process, flow: "browser", roomId: ctx.roomId });
    const url = step.type === "user_input" ? (step.url ?? "") : "";
    await ctx.reply(
      `Open this address and sign in to your Microsoft account:\n${url}\n\nWhen you end up on a blank page, copy the whole address from your browser's address bar (or just the part after #) and send it here. Send \`cancel\` to stop.`,
      `<p>Open <a href="${url.replace(/"/g, "&quot;")}">this address</a> and sign in to your Microsoft account.</p><p>When you end up on a blank page, copy the whole address from your browser's address bar (or just the part after #) and send it here. Send <code>cancel</code> to stop.</p>`,
    );
  }

  private async submit(
    ctx: CommandContext,
    p: PendingLogin,
    input: Record<string, string | undefined>,
  ): Promise<void> {
    let step;
    try {
      step = await p.process.submitUserInput(input);
    } catch (e) {
      if (isSkypeError(e) && e.code === SkypeErrorCode.Aborted) return;
      log.info("login failed", { user: ctx.sender, error: errorText(e) });
      this.pending.delete(ctx.sender);
      await ctx.reply(loginFailureText(e));
      return;
    }
    this.pending.delete(ctx.sender);
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

  private async whoami(ctx: CommandContext): Promise<void> {
    const user = this.deps.store.users.get(ctx.sender);
    const session = this.deps.sessions.get(ctx.sender);
    const ids = [user?.liveMri, user?.skypeMri].filter((x): x is string => Boolean(x));
    if (!ids.length) {
      await ctx.reply(
        "You are not logged in to Skype. Send `login <e-mail>` or `login` to link your account.",
      );
      return;
    }
    const state = session
      ? describeState(session.state, {
          skypename: user?.skypeName ?? undefined,
          email: user?.accountEmail ?? undefined,
        }).text
      : "No connection is running.";
    await ctx.reply(
      `Linked Skype account: ${user?.accountEmail ?? ids[0]} (${ids.join(", ")}).\nState: ${state}`,
    );
  }
}
