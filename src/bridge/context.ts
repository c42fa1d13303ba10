// SPDX-License-Identifier: Apache-2.0
/** What every bridge-side module is given: config, store, sessions and the Matrix side. */
import type { Intent } from "matrix-appservice-bridge";
import type { Config } from "../config/schema.js";
import type { SessionManager } from "../sessions/types.js";
import type { Store } from "../store/types.js";

export interface BridgeContext {
  readonly config: Config;
  readonly store: Store;
  readonly sessions: SessionManager;
  /** The bot's MXID (`@skypebot:domain`). */
  readonly botUserId: string;
  /** The appservice id from the registration (e.g. "skype"). */
  readonly appserviceId: string;
  /** Intent of the bot (no argument) or of a puppet / any user in our namespace. */
  intent(userId?: string): Intent;
  /** Sends a notice (or, with `alert`, an m.text that notifies) to a user's management room, if any. */
  notifyUser(mxid: string, text: string, opts?: { html?: string; alert?: boolean }): Promise<void>;
}
