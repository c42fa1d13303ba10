// SPDX-License-Identifier: Apache-2.0
/**
 * The base64-encoded ActiveSync query value (MS-ASHTTP 2.2.1.1.1.1; REFERENCE §11.2): protocol
 * version, command code, locale, device id, policy key, device type and tagged parameters.
 * The server accepts only this form (PROFILE §5).
 */

/** The decoded query. */
export interface EasQuery {
  /** Version × 10 (140 = 14.0). */
  protocolVersion: number;
  /** Command code (0 Sync, 9 FolderSync, …). */
  command: number;
  /** Locale (0x0409 = en-US). */
  locale: number;
  deviceId: string;
  /** The policy key when one was sent. */
  policyKey?: number;
  deviceType: string;
  /** Command parameters as (tag, raw value). */
  params: { tag: number; value: Buffer }[];
}

/** Command names by code (MS-ASHTTP 2.2.1.1.1.1.2). */
export const EAS_COMMANDS: Record<number, string> = {
  0: "Sync",
  1: "SendMail",
  2: "SmartForward",
  3: "SmartReply",
  4: "GetAttachment",
  9: "FolderSync",
  10: "FolderCreate",
  11: "FolderDelete",
  12: "FolderUpdate",
  13: "MoveItems",
  14: "GetItemEstimate",
  15: "MeetingResponse",
  16: "Search",
  17: "Settings",
  18: "Ping",
  19: "ItemOperations",
  20: "Provision",
  21: "ResolveRecipients",
  22: "ValidateCert",
};

/** A query that is not a well-formed base64 query value. */
export class EasQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EasQueryError";
  }
}

/** Decodes the query string of an ActiveSync URL (URL-escaped or not; standard or URL-safe base64). */
export function decodeEasQuery(rawQuery: string): EasQuery {
  let text: string;
  try {
    text = decodeURIComponent(rawQuery);
  } catch {
    throw new EasQueryError("the query is not valid percent-encoding");
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new EasQueryError("the query is not a base64 value (the plain Cmd=… form is not supported)");
  }
  const b = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  let pos = 0;
  const byte = (what: string): number => {
    const v = b[pos++];
    if (v === undefined) throw new EasQueryError(`the query ends before the ${what}`);
    return v;
  };
  const take = (n: number, what: string): Buffer => {
    if (pos + n > b.length) throw new EasQueryError(`the query ends inside the ${what}`);
    const out = b.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const protocolVersion = byte("protocol version");
  const command = byte("command code");
  const locale = take(2, "locale").readUInt16LE(0);
  const deviceId = take(byte("device id length"), "device id").toString("utf8");
  const policyLen = byte("policy key length");
  if (policyLen !== 0 && policyLen !== 4) throw new EasQueryError("the policy key length must be 0 or 4");
  const policyKey = policyLen === 4 ? take(4, "policy key").readUInt32LE(0) : undefined;
  const deviceType = take(byte("device type length"), "device type").toString("utf8");
  const params: { tag: number; value: Buffer }[] = [];
  while (pos < b.length) {
    const tag = byte("parameter tag");
    params.push({ tag, value: Buffer.from(take(byte("parameter length"), "parameter value")) });
  }
  if (!deviceId) throw new EasQueryError("the device id is empty");
  return policyKey === undefined
    ? { protocolVersion, command, locale, deviceId, deviceType, params }
    : { protocolVersion, command, locale, deviceId, policyKey, deviceType, params };
}

/** Encodes a query value (standard base64), the inverse of `decodeEasQuery`. */
export function encodeEasQuery(q: EasQuery): string {
  const parts: Buffer[] = [];
  const lenBytes = (s: Buffer, what: string): Buffer => {
    if (s.length > 255) throw new EasQueryError(`${what} longer than 255 bytes`);
    return Buffer.concat([Buffer.from([s.length]), s]);
  };
  const locale = Buffer.alloc(2);
  locale.writeUInt16LE(q.locale, 0);
  parts.push(Buffer.from([q.protocolVersion, q.command]), locale);
  parts.push(lenBytes(Buffer.from(q.deviceId, "utf8"), "device id"));
  if (q.policyKey === undefined) parts.push(Buffer.from([0]));
  else {
    const pk = Buffer.alloc(5);
    pk[0] = 4;
    pk.writeUInt32LE(q.policyKey, 1);
    parts.push(pk);
  }
  parts.push(lenBytes(Buffer.from(q.deviceType, "utf8"), "device type"));
  for (const p of q.params) parts.push(Buffer.from([p.tag]), lenBytes(p.value, "parameter"));
  return Buffer.concat(parts).toString("base64");
}
