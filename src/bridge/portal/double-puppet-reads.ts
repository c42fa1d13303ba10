// SPDX-License-Identifier: Apache-2.0
/**
 * Read state as the user (double puppeting): how far the user read on another Skype device becomes
 * their own `m.read` receipt in the portal, sent as their real account. Without double puppeting
 * nothing is shown (a puppet's receipt would say someone else read it).
 */
import type { MessageRow } from "../../store/types.js";
import { Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { matrixErrorText } from "../matrix/errors.js";

const log = new Logger("bridge.portal.double-puppet");

/**
 * Marks the portal room of `message` read up to it as `mxid`'s real account. Returns whether a
 * receipt was sent: false without double puppeting, without a bridged message, or when the
 * homeserver refused (e.g. the user has not joined the room yet; logged). Never rejects.
 */
export async function markReadAsUser(
  bridge: Bridge,
  mxid: string,
  message: Pick<MessageRow, "roomId" | "eventId"> | undefined,
): Promise<boolean> {
  if (!message || !bridge.doublePuppets.enabled(mxid)) return false;
  // Its echo (an m.receipt of the user) must not move the Skype horizon again.
  bridge.receipts.noteOwnReceipt(message.roomId, message.eventId);
  try {
    await bridge.matrix.sendReadReceipt(mxid, message.roomId, message.eventId);
    return true;
  } catch (e) {
    log.debug("could not mark a portal read as the user", {
      room: message.roomId,
      error: matrixErrorText(e),
    });
    return false;
  }
}
