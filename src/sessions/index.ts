// SPDX-License-Identifier: Apache-2.0
/** The session layer's public surface: the manager the bridge is given, and the state texts. */
export type * from "./types.js";
export { SkypeSessionManager, type SessionManagerOptions } from "./session-manager.js";
export { SkypeSession, type SkypeSessionOptions, type StopOptions } from "./session.js";
export type { SessionAccount } from "./setup.js";
export { describeState, type StateAccount, type StateMessage } from "./state-messages.js";
