// SPDX-License-Identifier: Apache-2.0
/**
 * `admin delete-portal`, sent in a portal: the members are told, the room loses its bridge info,
 * every puppet and then the bot leave, and the mapping is forgotten (in the store and in the
 * portal registry). The room stays with its Matrix members; the conversation's next message makes
 * a fresh portal. It runs in the portal's queue, so no event of the portal is handled halfway.
 */
import { Logger, errorText } from "../../../util/logger.js";
import type { Bridge } from "../../bridge.js";
import { isBridgeUser } from "../../ghosts/ids.js";
import { BRIDGE_INFO_TYPES, bridgeStateKey } from "../../matrix/bridge-info.js";
import { matrixErrorText } from "../../matrix/errors.js";
import { CommandError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.admin");

/** The room's joined and invited members, as the bot sees them. */
async function membersOf(bridge: Bridge, roomId: string): Promise<string[]> {
  const members = await bridge.env
    .intent()
    .matrixClient.getRoomMembers(roomId, undefined, ["join", "invite"]);
  return [...new Set(members.map((m) => m.membershipFor))];
}

/** Removes the portal of `roomId` (see the file comment). Throws when Matrix refuses a required step. */
export async function deletePortal(bridge: Bridge, ctx: CommandContext): Promise<void> {
  const { store, botUserId, matrix, members } = bridge;
  const row = store.portals.getByRoom(ctx.roomId);
  if (!row) return;
  await ctx.reply(
    "An admin removed this portal: this room is no longer bridged to Skype. New messages of this conversation will arrive in a new room.",
  );
  const stateKey = bridgeStateKey({
    botUserId,
    domain: bridge.config.homeserver.domain,
    appserviceId: bridge.appserviceId,
  });
  for (const type of BRIDGE_INFO_TYPES) {
    await matrix
      .sendState(botUserId, ctx.roomId, type, stateKey, {})
      .catch((e: unknown) =>
        log.warn("could not clear the bridge info", { type, error: matrixErrorText(e) }),
      );
  }
  // Forget the mapping first, so nothing that arrives meanwhile treats the room as a portal.
  store.portals.delete(ctx.roomId);
  bridge.portals.forget(row.receiver, row.conversation);
  const puppets = (await membersOf(bridge, ctx.roomId).catch(() => [])).filter(
    (m) => m !== botUserId && isBridgeUser(bridge, m),
  );
  for (const puppet of puppets) {
    await members
      .leave(ctx.roomId, puppet)
      .catch((e: unknown) => log.warn("a puppet could not leave", { puppet, error: matrixErrorText(e) }));
  }
  await members.leave(ctx.roomId, botUserId);
  log.info("portal deleted by an admin", {
    admin: ctx.sender,
    room: ctx.roomId,
    user: row.receiver,
    puppets: puppets.length,
  });
}

export function deletePortalCommand(bridge: Bridge): Command {
  return {
    name: "admin delete-portal",
    usage: "admin delete-portal",
    summary:
      "in a portal: tell its members, unbridge it, make every puppet and the bot leave, and forget it (the next message makes a new one)",
    group: "Admin",
    adminOnly: true,
    args: { max: 0 },
    async run(ctx) {
      const portal = bridge.portals.forRoom(ctx.roomId);
      if (!portal) {
        throw new CommandError(
          "not a portal",
          "This room is not a portal. Send `!skype admin delete-portal` in the portal to remove.",
        );
      }
      try {
        await bridge.portals.queue.run(portal.key, () => deletePortal(bridge, ctx));
      } catch (e) {
        log.error("deleting a portal failed", { room: ctx.roomId, error: errorText(e) });
        throw new CommandError("delete failed", `Could not fully remove the portal: ${matrixErrorText(e)}.`);
      }
    },
  };
}
