// SPDX-License-Identifier: Apache-2.0
/**
 * Bridge state (mautrix bridgev2's `status.BridgeState`): each linked user's connection as one of
 * CONNECTING, CONNECTED, TRANSIENT_DISCONNECT, BAD_CREDENTIALS, LOGGED_OUT or UNKNOWN_ERROR, with
 * the fields bridgev2 sends (`state_event`, `timestamp` in Unix seconds, `ttl`, `source`, `error`,
 * `message`, `user_id`, `remote_id`, …). `whoami`, `admin users` and the provisioning API show it;
 * status-push.ts POSTs it to `homeserver.status_endpoint`.
 */
import { describeState } from "../../sessions/state-messages.js";
import type { Session, SessionManager, SessionState } from "../../sessions/types.js";
import type { Store, UserRow } from "../../store/types.js";

export type BridgeStateEvent =
  "CONNECTING" | "CONNECTED" | "TRANSIENT_DISCONNECT" | "BAD_CREDENTIALS" | "LOGGED_OUT" | "UNKNOWN_ERROR";

export interface RemoteProfile {
  email?: string;
  username?: string;
  name?: string;
}

/** One user's state, shaped as bridgev2's JSON. */
export interface BridgeState {
  state_event: BridgeStateEvent;
  /** Unix seconds of when the state began. */
  timestamp: number;
  /** Seconds the state stays valid: 3600 with an error, 21600 without (as bridgev2). */
  ttl: number;
  source: "bridge";
  /** A stable error code (the Skype error's code), when the state is an error. */
  error?: string;
  /** The same sentence the user reads in their management room. */
  message?: string;
  user_action?: "RELOGIN";
  user_id: string;
  /** The login's id: the user's `8:` identity (else their `1:`). */
  remote_id?: string;
  remote_name?: string;
  remote_profile?: RemoteProfile;
  /** Why a session logged out (`logout`, `OTH`, …). */
  reason?: string;
}

/** `logged_out` reasons that are no error (the user or the bridge did it). */
const QUIET_LOGOUTS = new Set(["logout", "stopped", "shutdown"]);

/** The state of a session, or, when none runs, what the store says of the user. */
export function stateEventOf(state: SessionState | undefined, row: UserRow | undefined): BridgeStateEvent {
  if (state) {
    switch (state.kind) {
      case "connecting":
        return "CONNECTING";
      case "connected":
        return "CONNECTED";
      case "transient_disconnect":
        return "TRANSIENT_DISCONNECT";
      case "bad_credentials":
        return "BAD_CREDENTIALS";
      case "logged_out":
        return "LOGGED_OUT";
    }
  }
  if (!row?.hasRefreshToken) return "LOGGED_OUT";
  // A stored sign-in without a running session: refused, or the session could not be built.
  return row.loginState === "bad_credentials" ? "BAD_CREDENTIALS" : "UNKNOWN_ERROR";
}

/** The error code and reason a state carries, if any. */
function errorOf(state: SessionState | undefined, event: BridgeStateEvent): Partial<BridgeState> {
  if (state?.kind === "transient_disconnect") return { error: state.error?.code ?? "SKYPE_NETWORK" };
  if (state?.kind === "bad_credentials")
    return { error: state.error?.code ?? "SKYPE_BAD_CREDENTIALS", user_action: "RELOGIN" };
  if (state?.kind === "logged_out") {
    return QUIET_LOGOUTS.has(state.reason)
      ? { reason: state.reason }
      : {
          reason: state.reason,
          error: `SKYPE_LOGGED_OUT_${state.reason.toUpperCase()}`,
          user_action: "RELOGIN",
        };
  }
  if (event === "BAD_CREDENTIALS") return { error: "SKYPE_BAD_CREDENTIALS", user_action: "RELOGIN" };
  if (event === "UNKNOWN_ERROR") return { error: "SKYPE_SESSION_NOT_RUNNING" };
  return {};
}

/** The full bridge state of `mxid` (pure). `sinceMs`: when the state began. */
export function bridgeStateOf(
  mxid: string,
  state: SessionState | undefined,
  row: UserRow | undefined,
  sinceMs: number,
  displayName?: string,
): BridgeState {
  const event = stateEventOf(state, row);
  const extra = errorOf(state, event);
  const account = { skypename: row?.skypeName ?? undefined, email: row?.accountEmail ?? undefined };
  const out: BridgeState = {
    state_event: event,
    timestamp: Math.floor(sinceMs / 1000),
    ttl: extra.error ? 3600 : 21600,
    source: "bridge",
    ...extra,
    user_id: mxid,
  };
  if (state) out.message = describeState(state, account).text;
  const remoteId = row?.skypeMri ?? row?.liveMri;
  if (remoteId) out.remote_id = remoteId;
  const remoteName = row?.skypeName ?? row?.accountEmail;
  if (remoteName) out.remote_name = remoteName;
  const profile: RemoteProfile = {};
  if (row?.accountEmail) profile.email = row.accountEmail;
  if (row?.skypeName) profile.username = row.skypeName;
  if (displayName) profile.name = displayName;
  if (Object.keys(profile).length) out.remote_profile = profile;
  return out;
}

/** Keeps when each user's state began, and answers with their current bridge state. */
export class BridgeStates {
  private readonly since = new Map<string, { event: BridgeStateEvent; ms: number }>();
  private readonly attached = new WeakSet<Session>();
  private readonly listeners: ((state: BridgeState) => void)[] = [];

  constructor(
    private readonly deps: {
      store: Pick<Store, "users">;
      sessions: Pick<SessionManager, "get">;
      now?: () => number;
    },
  ) {}

  /** Calls `listener` with the new state of a user whenever their session changes state. */
  onChange(listener: (state: BridgeState) => void): void {
    this.listeners.push(listener);
  }

  /** Follows the session's state changes (idempotent; attach before it starts). */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    session.on("state", (state) => {
      // The listener runs inside the session's emit: a failure here must not reach it.
      try {
        const current = this.stateOf(session.mxid, state, session.displayName);
        for (const listener of this.listeners) listener(current);
      } catch {
        // Nothing to do: the next change is reported afresh.
      }
    });
  }

  /** The current bridge state of `mxid`. */
  current(mxid: string): BridgeState {
    const session = this.deps.sessions.get(mxid);
    return this.stateOf(mxid, session?.state, session?.displayName);
  }

  private stateOf(mxid: string, state: SessionState | undefined, displayName?: string): BridgeState {
    const row = this.deps.store.users.get(mxid);
    const event = stateEventOf(state, row);
    let since = this.since.get(mxid);
    if (since?.event !== event) {
      since = { event, ms: (this.deps.now ?? Date.now)() };
      this.since.set(mxid, since);
    }
    return bridgeStateOf(mxid, state, row, since.ms, displayName);
  }
}
