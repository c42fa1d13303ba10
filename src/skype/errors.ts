// SPDX-License-Identifier: Apache-2.0
/**
 * Typed errors of the Skype protocol client. Callers branch on `code`, never on the message.
 * Messages never contain tokens, passwords or cookies.
 */

export const SkypeErrorCode = {
  /** Network failure, timeout or 5xx: try again later. */
  Network: "SKYPE_NETWORK",
  /** The server answered something we could not parse. */
  Parse: "SKYPE_PARSE",
  /** Wrong e-mail or password on the sign-in page. */
  WrongPassword: "SKYPE_WRONG_PASSWORD",
  /** The account needs a second factor: the browser flow is required. */
  SecondFactor: "SKYPE_SECOND_FACTOR",
  /** The sign-in server sent a page we do not recognise. */
  UnknownPage: "SKYPE_UNKNOWN_PAGE",
  /** The OAuth `state` in the returned fragment is not the one we sent. */
  StateMismatch: "SKYPE_STATE_MISMATCH",
  /** The pasted URL or fragment carries no token. */
  BadRedirect: "SKYPE_BAD_REDIRECT",
  /** The refresh token is invalid or revoked (`invalid_grant`): sign in again. */
  BadCredentials: "SKYPE_BAD_CREDENTIALS",
  /** Other OAuth errors (`invalid_scope`, `invalid_client`, …). */
  OAuth: "SKYPE_OAUTH",
  /** usermap status other than ACTIVE. */
  AccountNotActive: "SKYPE_ACCOUNT_NOT_ACTIVE",
  /** HTTP status that is not an expected one. */
  HttpStatus: "SKYPE_HTTP_STATUS",
  /** A SOAP fault from the address book. */
  SoapFault: "SKYPE_SOAP_FAULT",
  /** An ActiveSync Status other than 1 that we could not handle. */
  ActiveSyncStatus: "SKYPE_ACTIVESYNC_STATUS",
  /** Malformed WBXML. */
  Wbxml: "SKYPE_WBXML",
  /** XML refused by src/skype/xml.ts: DOCTYPE/ENTITY, too large, too deep, a character XML forbids. */
  UnsafeXml: "SKYPE_UNSAFE_XML",
  /** An MSNP error reply (`<code> <trid> …`). */
  Msnp: "SKYPE_MSNP",
  /** MSNP framing violated by the server. */
  MsnpFraming: "SKYPE_MSNP_FRAMING",
  /** The connection is closed or not logged in. */
  NotConnected: "SKYPE_NOT_CONNECTED",
  /** The operation was aborted by the caller. */
  Aborted: "SKYPE_ABORTED",
  /** The server signed us out (`OUT`). */
  SignedOut: "SKYPE_SIGNED_OUT",
  /** A caller passed an argument the client cannot use (bad MRI, bad callback name, bad saved state). */
  InvalidArgument: "SKYPE_INVALID_ARGUMENT",
  /** Object service (PROFILE §7.2): the object or view does not exist (404). */
  MediaNotFound: "SKYPE_MEDIA_NOT_FOUND",
  /** Object service: this account may not read or write the object (403). */
  MediaForbidden: "SKYPE_MEDIA_FORBIDDEN",
  /** Object service: the object is larger than the limit (ours, the receiver's or the server's 413). */
  MediaTooLarge: "SKYPE_MEDIA_TOO_LARGE",
  /** Object service: the view did not become `ready` within the bounded retries. */
  MediaNotReady: "SKYPE_MEDIA_NOT_READY",
  /** A URIObject `uri` outside the configured `ams` base: never fetched with the token. */
  MediaForeignHost: "SKYPE_MEDIA_FOREIGN_HOST",
} as const;
export type SkypeErrorCode = (typeof SkypeErrorCode)[keyof typeof SkypeErrorCode];

export class SkypeError extends Error {
  constructor(
    readonly code: SkypeErrorCode,
    message: string,
    /** True when the same call may succeed later without the user doing anything. */
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SkypeError";
  }
}

/** Sign-in and token errors. */
export class AuthError extends SkypeError {
  constructor(code: SkypeErrorCode, message: string, retryable = false, options?: ErrorOptions) {
    super(code, message, retryable, options);
    this.name = "AuthError";
  }
}

/** A SOAP fault; `faultCode` is the address book's error code (e.g. `MemberDoesNotExist`). */
export class SoapFaultError extends SkypeError {
  constructor(
    readonly faultCode: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(SkypeErrorCode.SoapFault, message, false, options);
    this.name = "SoapFaultError";
  }
}

/** An ActiveSync command answered with a Status other than success. */
export class ActiveSyncStatusError extends SkypeError {
  constructor(
    readonly command: string,
    readonly status: number,
    message: string,
  ) {
    super(SkypeErrorCode.ActiveSyncStatus, message, false);
    this.name = "ActiveSyncStatusError";
  }
}

/** An MSNP error reply; `msnpCode` is the three-digit code (911, 715, 217, …). */
export class MsnpError extends SkypeError {
  constructor(
    readonly msnpCode: number,
    message: string,
    retryable = false,
  ) {
    super(SkypeErrorCode.Msnp, message, retryable);
    this.name = "MsnpError";
  }
}

/** Input from the server that violates the protocol (bad frame, bad XML, bad WBXML). */
export class ProtocolParseError extends SkypeError {
  constructor(code: SkypeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, false, options);
    this.name = "ProtocolParseError";
  }
}

export function isSkypeError(e: unknown): e is SkypeError {
  return e instanceof SkypeError;
}
