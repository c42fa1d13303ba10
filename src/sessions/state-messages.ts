// SPDX-License-Identifier: Apache-2.0
/**
 * What to tell a user about their session's state, in plain words with what to do (the mautrix
 * bridge-state pattern: one table, one sentence per state). Never raw protocol text, never a secret:
 * errors are classified by their `code` only.
 */
import { MsnpError, SkypeErrorCode, type SkypeError } from "../skype/errors.js";
import type { SessionState } from "./types.js";

/** The account a message talks about (either part may be missing). */
export interface StateAccount {
  skypename?: string;
  email?: string;
}

/** A message for the management room; `alert` asks for a notifying `m.text` rather than a notice. */
export interface StateMessage {
  text: string;
  alert: boolean;
}

const LOGIN_AGAIN = "Send `login` to sign in again.";

const LOST = "Lost the connection to Skype";
const SERVER_CLOSED = "Skype's server closed the connection";
const UNUSABLE = "Skype's server sent something the bridge could not use, so it disconnected";
const REFUSED = "Skype's sign-in service refused a request for now";
const SERVER_ERROR = "Skype's server reported an error";

/** Why the connection dropped, by error code (never the error's own text). */
const DROP_REASONS = new Map<string, string>([
  [SkypeErrorCode.Network, LOST],
  [SkypeErrorCode.NotConnected, LOST],
  [SkypeErrorCode.SignedOut, SERVER_CLOSED],
  [SkypeErrorCode.Msnp, SERVER_ERROR],
  [SkypeErrorCode.MsnpFraming, UNUSABLE],
  [SkypeErrorCode.Parse, UNUSABLE],
  [SkypeErrorCode.OAuth, REFUSED],
  [SkypeErrorCode.HttpStatus, REFUSED],
]);

function dropReason(error: SkypeError | undefined): string {
  if (error instanceof MsnpError && error.msnpCode === 911) return "Skype asked the bridge to sign in again";
  return (error && DROP_REASONS.get(error.code)) ?? LOST;
}

/** "in 30 s", "in 2 min", or "now". */
function delayText(retryAt: number, now: number): string {
  const seconds = Math.ceil((retryAt - now) / 1000);
  if (!Number.isFinite(seconds) || seconds <= 0) return "now";
  if (seconds < 120) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

/** Messages for `logged_out`, by reason (the MSNP `OUT` reason or the bridge's own). */
const LOGGED_OUT = new Map<string, StateMessage>(
  Object.entries({
    OTH: {
      text:
        "You signed in to Skype elsewhere with this bridge's endpoint, so Skype disconnected the bridge. " +
        LOGIN_AGAIN,
      alert: true,
    },
    logout: {
      text: "You are logged out of Skype and the bridge has forgotten your sign-in. Send `login` to link an account again.",
      alert: false,
    },
    stopped: { text: "The bridge has stopped your Skype connection.", alert: false },
    shutdown: { text: "The bridge is shutting down; it reconnects you when it starts again.", alert: false },
  }),
);

/**
 * The plain-words message for `state`. `now` is the clock used for "reconnecting in …" (ms).
 * Pure; never throws.
 */
export function describeState(
  state: SessionState,
  account: StateAccount,
  now: number = Date.now(),
): StateMessage {
  const who = account.skypename || account.email;
  switch (state.kind) {
    case "connecting":
      return { text: who ? `Connecting to Skype as ${who}…` : "Connecting to Skype…", alert: false };
    case "connected":
      return { text: who ? `Connected to Skype as ${who}.` : "Connected to Skype.", alert: false };
    case "transient_disconnect":
      return {
        text: `${dropReason(state.error)}; reconnecting ${delayText(state.retryAt, now)}.`,
        alert: false,
      };
    case "bad_credentials":
      return { text: `Skype no longer accepts your sign-in. ${LOGIN_AGAIN}`, alert: true };
    case "logged_out":
      return (
        LOGGED_OUT.get(state.reason) ?? {
          text: `You are signed out of Skype. ${LOGIN_AGAIN}`,
          alert: true,
        }
      );
  }
}

/**
 * The message for a session's `refreshTokenStore` event: the newest sign-in could not be saved
 * (the connection works, a restart would not), or it is saved again. Pure; never throws.
 */
export function describeRefreshTokenStore(status: { saved: boolean }): StateMessage {
  if (status.saved)
    return {
      text: "Your Skype sign-in is saved again: a restart will reconnect you by itself.",
      alert: false,
    };
  return {
    text:
      "The bridge could not save your renewed Skype sign-in. Your connection works, but if the bridge " +
      "restarts before it can save a later one, you will have to send `login` again.",
    alert: true,
  };
}
