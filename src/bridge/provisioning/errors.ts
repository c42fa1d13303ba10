// SPDX-License-Identifier: Apache-2.0
/**
 * Errors of the provisioning API: JSON `{errcode, error}` with a stable code and an HTTP status,
 * as mautrix bridgev2 answers (M_MISSING_TOKEN, M_UNKNOWN_TOKEN, M_FORBIDDEN, M_NOT_FOUND, …).
 * They implement the library's `IApiError`, so its error handler writes them as they are.
 */
import type { Response } from "express";
import type { IApiError } from "matrix-appservice-bridge";
import { isSkypeError } from "../../skype/errors.js";

export const ProvisioningErrorCode = {
  MissingToken: "M_MISSING_TOKEN",
  UnknownToken: "M_UNKNOWN_TOKEN",
  Forbidden: "M_FORBIDDEN",
  NotFound: "M_NOT_FOUND",
  MissingParam: "M_MISSING_PARAM",
  BadJson: "M_BAD_JSON",
  Unrecognized: "M_UNRECOGNIZED",
  Unknown: "M_UNKNOWN",
  NotLoggedIn: "FI.MAU.NOT_LOGGED_IN",
  LoginCancelled: "FI.MAU.BRIDGE.LOGIN_CANCELLED",
  LoginAlreadyFinished: "FI.MAU.BRIDGE.LOGIN_ALREADY_FINISHED",
} as const;
export type ProvisioningErrorCode = (typeof ProvisioningErrorCode)[keyof typeof ProvisioningErrorCode];

export class ProvisioningError extends Error implements IApiError {
  constructor(
    /** A stable code: one of {@link ProvisioningErrorCode}, or a Skype error's code (`SKYPE_…`). */
    readonly errcode: string,
    /** A sentence safe to show (never a secret). */
    readonly error: string,
    readonly statusCode: number,
  ) {
    super(error);
    this.name = "ProvisioningError";
  }

  apply(res: Response): void {
    res.status(this.statusCode).json({ errcode: this.errcode, error: this.error });
  }
}

export const missingToken = (): ProvisioningError =>
  new ProvisioningError(ProvisioningErrorCode.MissingToken, "Missing auth token", 401);
export const unknownToken = (): ProvisioningError =>
  new ProvisioningError(ProvisioningErrorCode.UnknownToken, "Invalid auth token", 401);
export const forbidden = (why: string): ProvisioningError =>
  new ProvisioningError(ProvisioningErrorCode.Forbidden, why, 403);
export const notFound = (what: string): ProvisioningError =>
  new ProvisioningError(ProvisioningErrorCode.NotFound, what, 404);
export const badRequest = (code: ProvisioningErrorCode, why: string): ProvisioningError =>
  new ProvisioningError(code, why, 400);
export const notLoggedIn = (): ProvisioningError =>
  new ProvisioningError(ProvisioningErrorCode.NotLoggedIn, "Not logged in", 400);

/** A Skype failure as an API error: its stable code, a short sentence, 502 when Skype was unreachable. */
export function fromSkypeError(e: unknown, sentence: string): ProvisioningError {
  if (!isSkypeError(e)) return new ProvisioningError(ProvisioningErrorCode.Unknown, sentence, 500);
  return new ProvisioningError(e.code, sentence, e.retryable ? 502 : 400);
}
