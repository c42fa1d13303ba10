// SPDX-License-Identifier: Apache-2.0
/**
 * Room membership of puppets, the bot and the real user in portals: joins (with an invite from the
 * bot when needed), invites, kicks and leaves, and the functional-members list. Remembers who it
 * has seen joined in this process so that the steady state costs no requests.
 */
import { Logger } from "../../util/logger.js";
import { FUNCTIONAL_MEMBERS_TYPE, serviceMembersOf } from "./bridge-info.js";
import type { MatrixOps } from "./client.js";
import { isForbidden, matrixErrorInfo, matrixErrorText } from "./errors.js";

const log = new Logger("bridge.members");

const key = (roomId: string, userId: string): string => `${roomId}\n${userId}`;

/** Membership operations on portal rooms. */
export class RoomMembers {
  private readonly joined = new Set<string>();

  constructor(
    private readonly ops: MatrixOps,
    private readonly botUserId: string,
  ) {}

  /** Records that `userId` is joined (e.g. the creator of a room just created). */
  markJoined(roomId: string, userId: string): void {
    this.joined.add(key(roomId, userId));
  }

  /** Forgets what is known about `userId` in `roomId`. */
  forget(roomId: string, userId: string): void {
    this.joined.delete(key(roomId, userId));
  }

  isKnownJoined(roomId: string, userId: string): boolean {
    return this.joined.has(key(roomId, userId));
  }

  /**
   * Makes `userId` (a puppet or the bot) joined. When it is not invited, the bot invites it (then
   * each of `inviters` in turn, e.g. the DM's contact puppet). `displayname` sets a per-room name in
   * the join event itself, so no "changed their name" event follows.
   */
  async ensureJoined(
    roomId: string,
    userId: string,
    opts: { displayname?: string; inviters?: readonly string[] } = {},
  ): Promise<void> {
    if (this.isKnownJoined(roomId, userId)) return;
    const content = opts.displayname === undefined ? {} : { displayname: opts.displayname };
    if (userId !== this.botUserId && (await this.inviteIfAbsent(roomId, userId, opts.displayname))) {
      this.markJoined(roomId, userId);
      return;
    }
    try {
      await this.ops.join(userId, roomId, content);
    } catch (e) {
      if (!isForbidden(e)) throw e;
      await this.inviteBy(roomId, userId, opts.inviters ?? []);
      await this.ops.join(userId, roomId, content);
    }
    this.markJoined(roomId, userId);
  }

  /**
   * Asks the bot who is joined (so that a puppet never knocks on a door it was not invited to,
   * which the homeserver answers — and client libraries log — as an error), inviting `userId` when
   * absent. Returns true when `userId` is already joined and nothing more is needed. Best effort:
   * when the bot cannot tell, the caller's join-then-invite path decides.
   */
  private async inviteIfAbsent(roomId: string, userId: string, displayname?: string): Promise<boolean> {
    let joined: string[];
    try {
      if (!this.isKnownJoined(roomId, this.botUserId)) {
        await this.ops.join(this.botUserId, roomId);
        this.markJoined(roomId, this.botUserId);
      }
      joined = await this.ops.joinedMembers(this.botUserId, roomId);
    } catch {
      return false;
    }
    if (joined.includes(userId)) return displayname === undefined;
    await this.ops.invite(this.botUserId, roomId, userId).catch(() => undefined);
    return false;
  }

  /** Invites `target`, trying the bot first and then each of `inviters`. */
  private async inviteBy(roomId: string, target: string, inviters: readonly string[]): Promise<void> {
    let last: unknown;
    for (const inviter of [this.botUserId, ...inviters]) {
      if (inviter === target) continue;
      try {
        if (inviter === this.botUserId && !this.isKnownJoined(roomId, inviter)) {
          await this.ops.join(inviter, roomId).then(
            () => this.markJoined(roomId, inviter),
            () => undefined,
          );
        }
        await this.ops.invite(inviter, roomId, target);
        return;
      } catch (e) {
        last = e;
        log.debug("could not invite", { room: roomId, inviter, target, error: matrixErrorText(e) });
      }
    }
    if (last instanceof Error) throw last;
    throw new Error("nobody in the room could invite", { cause: last });
  }

  /** Invites the real user unless they are joined or invited already. */
  async ensureUserInvited(roomId: string, userId: string): Promise<void> {
    await this.ensureJoined(roomId, this.botUserId);
    const m = await this.ops.membership(this.botUserId, roomId, userId);
    if (m === "join" || m === "invite" || m === "ban") return;
    await this.ops.invite(this.botUserId, roomId, userId);
  }

  /** Removes the real user (they left the Skype group). No-op when they are not in the room. */
  async kickUser(roomId: string, userId: string, reason: string): Promise<void> {
    await this.ensureJoined(roomId, this.botUserId);
    const m = await this.ops.membership(this.botUserId, roomId, userId);
    if (m !== "join" && m !== "invite") return;
    await this.ops.kick(this.botUserId, roomId, userId, reason);
  }

  /** Makes a puppet leave (no-op when it is not in the room). */
  async leave(roomId: string, userId: string): Promise<void> {
    this.forget(roomId, userId);
    try {
      await this.ops.leave(userId, roomId);
    } catch (e) {
      const { status } = matrixErrorInfo(e);
      if (!isForbidden(e) && status !== 404) throw e;
    }
  }

  /** Adds `userId` to the room's functional members (as the bot), when not listed yet. */
  async addServiceMember(roomId: string, userId: string): Promise<void> {
    const current = await this.ops.getState(this.botUserId, roomId, FUNCTIONAL_MEMBERS_TYPE, "");
    const members = serviceMembersOf(current);
    if (members.includes(userId)) return;
    await this.ops.sendState(this.botUserId, roomId, FUNCTIONAL_MEMBERS_TYPE, "", {
      ...current,
      service_members: [...members, userId],
    });
  }
}
