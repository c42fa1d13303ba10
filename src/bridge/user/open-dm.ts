// SPDX-License-Identifier: Apache-2.0
/**
 * Opens a linked user's DM portal with a Skype person, for `pm` and the provisioning API's
 * `create_dm`: the existing room, or a new one made by the person's puppet; either way the user is
 * (re-)invited, since they may have left an existing one.
 */
import { Logger, errorText } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";

const log = new Logger("bridge.open-dm");

export interface OpenedDm {
  roomId: string;
  /** The person's puppet. */
  puppet: string;
  /** True when the room was made now. */
  created: boolean;
}

export async function openDm(
  bridge: Pick<Bridge, "portals" | "puppets" | "store" | "matrix">,
  receiver: string,
  mri: string,
): Promise<OpenedDm> {
  const { portals, puppets, store } = bridge;
  const person = puppets.personFor(mri);
  const existed = store.portals.get(receiver, person.id) !== undefined;
  const roomId = await portals.ensureDm(receiver, mri);
  const puppet = puppets.mxidOf(person.id);
  if (existed) {
    // An existing DM the user has left: invite them back (an "already in the room" refusal is fine).
    await bridge.matrix
      .invite(puppet, roomId, receiver)
      .catch((e: unknown) => log.debug("invite back not needed or refused", { error: errorText(e) }));
  }
  return { roomId, puppet, created: !existed };
}
