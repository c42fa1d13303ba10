// SPDX-License-Identifier: Apache-2.0
/** Who may use the bridge, from the `permissions` section. */
import { type Config } from "./schema.js";
import { isMxid, mxidServerName } from "./syntax.js";

/** A user's access: `none` means the bridge ignores them. */
export type Permission = "admin" | "user" | "none";

/**
 * The permission of `mxid`: the most specific matching entry wins, an exact MXID entry over a
 * server-name entry over `*`. Server names compare case-insensitively. An invalid MXID gets
 * `none`.
 */
export function permissionFor(config: Pick<Config, "permissions">, mxid: string): Permission {
  if (!isMxid(mxid)) return "none";
  const entries = Object.entries(config.permissions);
  const exact = entries.find(([key]) => key.startsWith("@") && sameUser(key, mxid));
  if (exact) return exact[1];
  const server = (mxidServerName(mxid) ?? "").toLowerCase();
  const byServer = entries.find(([key]) => !key.startsWith("@") && key.toLowerCase() === server);
  if (byServer) return byServer[1];
  return config.permissions["*"] ?? "none";
}

/** Same localpart (exactly) and same server name (ignoring case). */
function sameUser(a: string, b: string): boolean {
  const ca = a.indexOf(":");
  const cb = b.indexOf(":");
  return a.slice(0, ca) === b.slice(0, cb) && a.slice(ca + 1).toLowerCase() === b.slice(cb + 1).toLowerCase();
}

/**
 * Whom a user without permission should ask for access: `permissions_contact`, else the admins
 * named by MXID in `permissions` (joined with "or"); undefined when neither says.
 */
export function accessContact(
  config: Pick<Config, "permissions" | "permissions_contact">,
): string | undefined {
  const contact = config.permissions_contact?.trim();
  if (contact) return contact;
  const admins = Object.entries(config.permissions)
    .filter(([key, level]) => key.startsWith("@") && level === "admin")
    .map(([key]) => key);
  return admins.length ? admins.join(" or ") : undefined;
}
