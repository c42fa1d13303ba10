// SPDX-License-Identifier: Apache-2.0
/**
 * Room state that tells clients which network a portal belongs to (MSC2346: `m.bridge` and its
 * unstable twin `uk.half-shot.bridge`, identical content and state key), and which members are the
 * bridge's machinery rather than people (`io.element.functional_members`, MSC4171), so that a DM is
 * named after the contact and never "Bob and Skype bridge bot" (matrix-conventions §1, §2.5).
 */

/** The two event types carrying bridge info; Element reads only the unstable one. */
export const BRIDGE_INFO_TYPES = ["m.bridge", "uk.half-shot.bridge"] as const;
/** State type listing service members (hidden from room name and avatar computation). */
export const FUNCTIONAL_MEMBERS_TYPE = "io.element.functional_members";

/** Who the bridge is: the bot and the homeserver / appservice it runs as. */
export interface BridgeIdentity {
  botUserId: string;
  /** Homeserver server name. */
  domain: string;
  appserviceId: string;
}

/** The Skype conversation a portal carries. */
export interface BridgeChannel {
  /** A person id (DM) or a thread id (group). */
  id: string;
  displayName?: string;
  kind: "dm" | "group";
}

/** A state event for `initial_state` or a state PUT. */
export interface StateEventSpec {
  type: string;
  state_key: string;
  content: Record<string, unknown>;
}

/**
 * The bridge-info state key: one per bridge instance (mautrix style, `<domain>/<appservice id>`),
 * because a portal carries exactly one Skype conversation.
 */
export function bridgeStateKey(who: BridgeIdentity): string {
  return `${who.domain}/${who.appserviceId}`;
}

/** MSC2346 content: bot, protocol ("Skype") and the channel. */
export function bridgeInfoContent(who: BridgeIdentity, channel: BridgeChannel): Record<string, unknown> {
  const ch: Record<string, unknown> = { id: channel.id };
  if (channel.displayName !== undefined && channel.displayName !== "") ch.displayname = channel.displayName;
  return {
    bridgebot: who.botUserId,
    creator: who.botUserId,
    protocol: { id: "skype", displayname: "Skype" },
    channel: ch,
    "com.beeper.room_type": channel.kind === "dm" ? "dm" : "group",
  };
}

/** Both bridge-info events (same key and content). */
export function bridgeInfoEvents(who: BridgeIdentity, channel: BridgeChannel): StateEventSpec[] {
  const content = bridgeInfoContent(who, channel);
  const stateKey = bridgeStateKey(who);
  return BRIDGE_INFO_TYPES.map((type) => ({ type, state_key: stateKey, content }));
}

/** `io.element.functional_members` listing `members` (without duplicates, in order). */
export function functionalMembersEvent(members: readonly string[]): StateEventSpec {
  return {
    type: FUNCTIONAL_MEMBERS_TYPE,
    state_key: "",
    content: { service_members: [...new Set(members)] },
  };
}

/** Reads `service_members` from a functional-members content (tolerating junk). */
export function serviceMembersOf(content: Record<string, unknown> | undefined): string[] {
  const list = content?.service_members;
  return Array.isArray(list) ? list.filter((m): m is string => typeof m === "string") : [];
}
