// SPDX-License-Identifier: Apache-2.0
/** What a user is told when a sign-in fails (the management room's login and the provisioning API). */
import { isSkypeError, SkypeErrorCode, type SkypeError } from "../../../skype/errors.js";

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
