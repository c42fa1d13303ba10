// SPDX-License-Identifier: Apache-2.0
/**
 * Who a provisioning request acts for. Two kinds of callers, as the library has them:
 * - an integration manager with the shared secret (`Authorization: Bearer <secret>`) acts for the
 *   `user_id` it names (query or JSON body);
 * - a user with a session token from `/v1/exchange_openid` (a Matrix OpenID token the library
 *   checked with the user's homeserver) acts only for themselves.
 *
 * The library compares the secret with `===`; so that its timing never depends on a guess, the
 * gate in front of it compares in constant time and hands the library a fixed placeholder for any
 * token that is not the secret. The library still rate-limits every request before its own check,
 * and the session store below turns an unknown token into M_UNKNOWN_TOKEN.
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import {
  MemoryProvisioningStore,
  type ProvisioningRequest,
  type ProvisionSession,
} from "matrix-appservice-bridge";
import { isMxid } from "../../config/syntax.js";
import { sameToken } from "../matrix/appservice.js";
import { ProvisioningErrorCode, badRequest, forbidden, missingToken, unknownToken } from "./errors.js";

/** Prefix of the session tokens handed out for OpenID tokens. */
export const WIDGET_TOKEN_PREFIX = "skype-provision-session-";
/** What the library sees instead of a token that is not the secret. */
const PLACEHOLDER = "not-a-provisioning-token";

export interface GateOptions {
  secret: string;
  allowMatrixAuth: boolean;
}

/** The express middleware in front of the library's router (mounted on the same prefix). */
export function authGate(opts: GateOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path === "/v1/exchange_openid") {
      if (opts.allowMatrixAuth) return next();
      return forbidden("Matrix authentication is disabled on this bridge").apply(res);
    }
    const token = (req.header("authorization") ?? "").replace(/^Bearer\s+/i, "").trim();
    if (!token) return missingToken().apply(res);
    if (sameToken(token, opts.secret)) return next();
    if (!(opts.allowMatrixAuth && token.startsWith(WIDGET_TOKEN_PREFIX))) {
      req.headers.authorization = `Bearer ${PLACEHOLDER}`;
    }
    next();
  };
}

/** The library's session store, answering M_UNKNOWN_TOKEN for unknown or expired tokens. */
export class SessionTokens extends MemoryProvisioningStore {
  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  override getSessionForToken(token: string): ProvisionSession | null {
    const session = token === PLACEHOLDER ? null : super.getSessionForToken(token);
    if (!session) throw unknownToken();
    if (session.expiresTs < this.now()) {
      this.deleteSession(token);
      throw unknownToken();
    }
    return session;
  }
}

/**
 * The Matrix user a request acts for. With the secret: the `user_id` it names (required). With a
 * session token: its own user, and a different `user_id` is refused. Then the user must be allowed
 * to use the bridge.
 */
export function actingUser(req: ProvisioningRequest, permission: (mxid: string) => string): string {
  const fromQuery = req.query.user_id;
  const body = req.body as Record<string, unknown> | undefined;
  const named =
    typeof fromQuery === "string" ? fromQuery : typeof body?.user_id === "string" ? body.user_id : undefined;
  let user: string;
  if (req.requestSource === "provisioner") {
    if (!named)
      throw badRequest(ProvisioningErrorCode.MissingParam, "user_id is required with the shared secret");
    user = named;
  } else {
    user = req.userId ?? "";
    if (named !== undefined && named !== user)
      throw forbidden("A Matrix token may only act for its own user");
  }
  if (!isMxid(user)) throw badRequest(ProvisioningErrorCode.MissingParam, "user_id is not a Matrix user id");
  if (permission(user) === "none") throw forbidden("This user is not allowed to use this bridge");
  return user;
}
