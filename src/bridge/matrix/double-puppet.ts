// SPDX-License-Identifier: Apache-2.0
/**
 * Double puppeting (mautrix's `double_puppet`): acting as a linked user's REAL Matrix account, so
 * that what they send from another Skype device appears as them and their Skype read state becomes
 * their own read receipt. Two ways, the user's own wins:
 *
 * - the access token the user gave with `login-matrix` (stored encrypted, users.matrix_token_enc);
 * - `double_puppet.secrets[<their server>] = "as_token:<t>"`: a second appservice registration
 *   whose (non-exclusive) users namespace covers real users, used with `?user_id=` (identity
 *   assertion), which also keeps timestamp massaging (`ts`) working.
 *
 * Every event sent this way carries {@link DOUBLE_PUPPET_SOURCE} = the appservice id in its
 * content, and the bridge ignores Matrix events that carry it (they are its own: never sent back to
 * Skype). Tokens never reach a log line or a chat message.
 */
import { MatrixClient } from "@vector-im/matrix-bot-sdk";
import type { Config } from "../../config/schema.js";
import type { Store } from "../../store/types.js";
import { errorText, Logger } from "../../util/logger.js";
import { matrixErrorInfo } from "./errors.js";

const log = new Logger("bridge.double-puppet");

/** Content key marking events the bridge sent as a real user (mautrix's name). */
export const DOUBLE_PUPPET_SOURCE = "fi.mau.double_puppet_source";

/** Stable codes of {@link DoublePuppetError}. */
export enum DoublePuppetErrorCode {
  /** The homeserver refused the token (unknown, expired, logged out). */
  BadToken = "DOUBLE_PUPPET_BAD_TOKEN",
  /** The token is valid but belongs to another Matrix user. */
  WrongUser = "DOUBLE_PUPPET_WRONG_USER",
  /** The homeserver could not be asked (network, 5xx). */
  Unreachable = "DOUBLE_PUPPET_UNREACHABLE",
}

/** Why a token given for double puppeting was not taken. Its message is safe to show the user. */
export class DoublePuppetError extends Error {
  constructor(
    readonly code: DoublePuppetErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "DoublePuppetError";
  }
}

/** True when the homeserver refused the credentials a call was made with (401, unknown token). */
export function isRefusedCredential(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  return status === 401 || errcode === "M_UNKNOWN_TOKEN" || errcode === "M_MISSING_TOKEN";
}

/** The server name of an MXID (`@a:example.org:8448` → `example.org:8448`). */
function serverOf(mxid: string): string {
  const i = mxid.indexOf(":");
  return i < 0 ? "" : mxid.slice(i + 1);
}

/** Which clients act as which real users. */
export class DoublePuppets {
  /** Per MXID: its client, or null when the bridge cannot act as it (puppets, unlinked users). */
  private readonly clients = new Map<string, MatrixClient | null>();

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    /** The appservice id: the value of {@link DOUBLE_PUPPET_SOURCE} in what we send. */
    readonly source: string,
  ) {}

  /** How `mxid` is double-puppeted: their own token, the server's secret, or not at all. */
  mode(mxid: string): "token" | "secret" | undefined {
    if (this.userToken(mxid) !== undefined) return "token";
    return this.secretFor(mxid) !== undefined ? "secret" : undefined;
  }

  /** True when the bridge can act as `mxid`. */
  enabled(mxid: string): boolean {
    return this.clientFor(mxid) !== undefined;
  }

  /** A client acting as `mxid`'s real account, or undefined when double puppeting is off for them. */
  clientFor(mxid: string): MatrixClient | undefined {
    const cached = this.clients.get(mxid);
    if (cached !== undefined) return cached ?? undefined;
    const client = this.makeClient(mxid);
    this.clients.set(mxid, client ?? null);
    return client;
  }

  private makeClient(mxid: string): MatrixClient | undefined {
    // Only linked users: never a puppet or the bot, even where a secret's namespace covers them.
    if (!this.store.users.get(mxid)) return undefined;
    const url = this.config.homeserver.url;
    const token = this.userToken(mxid);
    if (token !== undefined) return new MatrixClient(url, token);
    const secret = this.secretFor(mxid);
    if (secret === undefined) return undefined;
    const client = new MatrixClient(url, secret);
    client.impersonateUserId(mxid);
    return client;
  }

  /**
   * Checks `token` against the homeserver (`whoami` must name `mxid`) and stores it encrypted.
   * Network I/O. @throws DoublePuppetError; StoreError when it cannot be stored.
   */
  async login(mxid: string, token: string): Promise<void> {
    const probe = new MatrixClient(this.config.homeserver.url, token);
    let userId: string;
    try {
      userId = (await probe.getWhoAmI()).user_id;
    } catch (e) {
      const { status } = matrixErrorInfo(e);
      if (status === 401 || status === 403)
        throw new DoublePuppetError(
          DoublePuppetErrorCode.BadToken,
          "the homeserver does not accept this token",
        );
      throw new DoublePuppetError(
        DoublePuppetErrorCode.Unreachable,
        "the homeserver could not check the token; try again later",
        { cause: e },
      );
    }
    if (userId !== mxid)
      throw new DoublePuppetError(
        DoublePuppetErrorCode.WrongUser,
        `this token belongs to ${userId}, not to you (${mxid})`,
      );
    this.store.users.setMatrixToken(mxid, token);
    this.clients.delete(mxid);
    log.info("double puppeting enabled with the user's token", { user: mxid });
  }

  /** Told when the homeserver refused to act as a user (their token or the secret no longer works). */
  onRefused?: (mxid: string, mode: "token" | "secret") => void;

  /**
   * The homeserver refused a call made as `mxid`'s real account: a token of theirs is forgotten (they
   * are told, through {@link onRefused}); a refused secret stops double puppeting for them until the
   * bridge restarts. Either way the "(you, on Skype)" puppet speaks again.
   */
  refused(mxid: string): void {
    const mode = this.mode(mxid);
    if (mode === undefined) return;
    if (mode === "token") {
      try {
        this.store.users.setMatrixToken(mxid, null);
      } catch (e) {
        log.warn("could not forget a refused double-puppeting token", { user: mxid, error: errorText(e) });
      }
      this.clients.delete(mxid);
    } else {
      this.clients.set(mxid, null);
    }
    log.warn("the homeserver refused to act as the user; double puppeting is off for them", {
      user: mxid,
      mode,
    });
    this.onRefused?.(mxid, mode);
  }

  /** Forgets the user's own token (the server's secret, if any, still applies). Returns whether one was stored. */
  logout(mxid: string): boolean {
    const had = this.userToken(mxid) !== undefined;
    if (this.store.users.get(mxid)) this.store.users.setMatrixToken(mxid, null);
    this.clients.delete(mxid);
    return had;
  }

  private userToken(mxid: string): string | undefined {
    try {
      return this.store.users.getMatrixToken(mxid);
    } catch (e) {
      log.warn("the stored double-puppeting token is unusable", { user: mxid, error: errorText(e) });
      return undefined;
    }
  }

  private secretFor(mxid: string): string | undefined {
    const raw = this.config.double_puppet.secrets[serverOf(mxid)];
    if (raw === undefined || !raw.startsWith("as_token:")) return undefined;
    const token = raw.slice("as_token:".length);
    return token === "" ? undefined : token;
  }
}

/** Adds the double-puppet marker to a request body that is event content (send, redact). */
export function markDoublePuppeted(path: string, body: unknown, source: string): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  if (!/\/rooms\/[^/]+\/(send|redact)\//.test(path)) return body;
  return { ...(body as Record<string, unknown>), [DOUBLE_PUPPET_SOURCE]: source };
}

/** True for a Matrix event the bridge itself sent as a real user (never bridged back). */
export function isDoublePuppeted(content: unknown, source: string): boolean {
  return (
    content !== null &&
    typeof content === "object" &&
    (content as Record<string, unknown>)[DOUBLE_PUPPET_SOURCE] === source
  );
}
