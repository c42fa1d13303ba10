// SPDX-License-Identifier: Apache-2.0
/** `whoami`: the linked Skype account, the connection's state in words, and its bridge state. */
import { describeState } from "../../../sessions/state-messages.js";
import type { SessionManager } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import type { BridgeStates } from "../bridge-state.js";
import type { Command } from "./types.js";

export interface WhoamiDeps {
  store: Pick<Store, "users">;
  sessions: Pick<SessionManager, "get">;
  states: Pick<BridgeStates, "current">;
}

export function whoamiCommand(deps: WhoamiDeps): Command {
  return {
    name: "whoami",
    usage: "whoami",
    summary: "show which Skype account is linked and the state of its connection",
    group: "Account",
    args: { max: 0 },
    async run(ctx) {
      const user = deps.store.users.get(ctx.sender);
      const session = deps.sessions.get(ctx.sender);
      const ids = [user?.liveMri, user?.skypeMri].filter((x): x is string => Boolean(x));
      const bridgeState = deps.states.current(ctx.sender).state_event;
      if (!ids.length) {
        await ctx.reply(
          `You are not logged in to Skype. Send \`login <e-mail>\` or \`login\` to link your account.\nBridge state: ${bridgeState}`,
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
        `Linked Skype account: ${user?.accountEmail ?? ids[0]} (${ids.join(", ")}).\nState: ${state}\nBridge state: ${bridgeState}`,
      );
    },
  };
}
