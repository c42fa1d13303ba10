// SPDX-License-Identifier: Apache-2.0
/** Helpers for tests of the bot's commands: a reply as a whole event, and replies after the first. */
import type { E2EEnv } from "./env.js";
import type { HumanClient, RoomEvent } from "./human.js";

/** Sends `text` and returns the bot's next message in that room (the whole event, for its HTML). */
export async function commandEvent(
  env: E2EEnv,
  human: HumanClient,
  roomId: string,
  text: string,
): Promise<RoomEvent> {
  const before = human.timeline.length;
  await human.sendText(roomId, text);
  return human.waitForEvent(
    (e) =>
      human.timeline.indexOf(e) >= before &&
      e.room_id === roomId &&
      e.sender === env.botUserId &&
      e.type === "m.room.message",
    `the bot's reply to "${text}"`,
  );
}

/** Sends `text` and waits for a bot message in that room matching `re` (later replies included). */
export async function commandUntil(
  env: E2EEnv,
  human: HumanClient,
  roomId: string,
  text: string,
  re: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  const before = human.timeline.length;
  await human.sendText(roomId, text);
  const e = await human.waitForEvent(
    (ev) =>
      human.timeline.indexOf(ev) >= before &&
      ev.room_id === roomId &&
      ev.sender === env.botUserId &&
      re.test(String(ev.content.body)),
    `a reply to "${text}" matching ${re}`,
    timeoutMs,
  );
  return String(e.content.body);
}

/** Bot messages in a room after timeline position `from`. */
export function botMessagesSince(env: E2EEnv, human: HumanClient, roomId: string, from: number): RoomEvent[] {
  return human.timeline
    .slice(from)
    .filter((e) => e.room_id === roomId && e.sender === env.botUserId && e.type === "m.room.message");
}
