// SPDX-License-Identifier: Apache-2.0
/**
 * Read-only looks into the running bridge's SQLite store, for checks that something did NOT happen
 * (no user row, no portal) and for the positive signal that an event was handled (its inbox row is
 * done), which such checks need before they can mean anything.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import yaml from "js-yaml";
import type { E2EEnv } from "./env.js";

function query<T>(env: E2EEnv, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(env.dir, "bridge.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** True once the bridge has finished handling the event (its inbox row is done). */
export function eventHandled(env: E2EEnv, eventId: string): boolean {
  return query<{ done: number | null }>(
    env,
    "SELECT done_ts AS done FROM inbox WHERE event_id = ?",
    eventId,
  ).some((r) => r.done !== null);
}

/** The stored user row's interesting columns, if the bridge has one for `mxid`. */
export function userRow(
  env: E2EEnv,
  mxid: string,
): { hasToken: boolean; managementRoom: string | null } | undefined {
  const rows = query<{ token: string | null; room: string | null }>(
    env,
    "SELECT refresh_token_enc AS token, management_room_id AS room FROM users WHERE mxid = ?",
    mxid,
  );
  const r = rows[0];
  return r && { hasToken: r.token !== null, managementRoom: r.room };
}

/** Portal rooms of `receiver` (or the portal of `roomId` when given). */
export function portalRooms(env: E2EEnv, receiver: string): string[] {
  return query<{ room: string }>(env, "SELECT room_id AS room FROM portals WHERE receiver = ?", receiver).map(
    (r) => r.room,
  );
}

/** True when some portal uses `roomId`. */
export function isPortalRoom(env: E2EEnv, roomId: string): boolean {
  return query(env, "SELECT 1 FROM portals WHERE room_id = ?", roomId).length > 0;
}

/** Puppet MXIDs the bridge has made. */
export function puppetMxids(env: E2EEnv): string[] {
  return query<{ mxid: string }>(env, "SELECT mxid FROM puppets").map((r) => r.mxid);
}

/** The appservice token the bridge uses (from the generated registration). */
export function asToken(env: E2EEnv): string {
  const reg = yaml.load(readFileSync(env.registrationPath, "utf8")) as { as_token: string };
  return reg.as_token;
}
