// SPDX-License-Identifier: Apache-2.0
/**
 * The MS-ASHTTP base64-encoded query value (MS-ASHTTP 2.2.1.1.1.1; REFERENCE §11.2):
 * version byte, command code, locale (uint16 LE), device id, policy key, device type, parameters.
 * Encoding what decoding produced gives the same bytes back.
 */
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "../errors.js";

/** MS-ASHTTP command codes (2.2.1.1.1.1.2). */
export const AsCommand = {
  Sync: 0,
  SendMail: 1,
  SmartForward: 2,
  SmartReply: 3,
  GetAttachment: 4,
  FolderSync: 9,
  FolderCreate: 10,
  FolderDelete: 11,
  FolderUpdate: 12,
  MoveItems: 13,
  GetItemEstimate: 14,
  MeetingResponse: 15,
  Search: 16,
  Settings: 17,
  Ping: 18,
  ItemOperations: 19,
  Provision: 20,
  ResolveRecipients: 21,
  ValidateCert: 22,
} as const;

/** One command parameter: tag (0 AttachmentName, 1 CollectionId, 3 ItemId, 4 LongId, 6 Occurrence, 7 Options, 8 User). */
export interface AsQueryParameter {
  tag: number;
  value: Uint8Array;
}

export interface AsQuery {
  /** Protocol version × 10 (140 = 14.0). */
  protocolVersion: number;
  command: number;
  /** Windows LCID (0x0409 = en-US). */
  locale: number;
  deviceId: string;
  /** Absent: policy-key length 0. */
  policyKey?: number;
  deviceType: string;
  parameters: AsQueryParameter[];
}

function bad(message: string): ProtocolParseError {
  return new ProtocolParseError(SkypeErrorCode.Parse, `ActiveSync query: ${message}`);
}

function byte(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) {
    throw new SkypeError(SkypeErrorCode.InvalidArgument, `ActiveSync query: ${what} must be one byte`, false);
  }
  return v;
}

function lengthPrefixed(text: Uint8Array, what: string): number[] {
  return [byte(text.length, `${what} length`), ...text];
}

/** Encodes the query fields into their bytes. */
export function encodeAsQueryBytes(q: AsQuery): Uint8Array {
  const out: number[] = [byte(q.protocolVersion, "protocol version"), byte(q.command, "command")];
  if (!Number.isInteger(q.locale) || q.locale < 0 || q.locale > 0xffff) {
    throw new SkypeError(SkypeErrorCode.InvalidArgument, "ActiveSync query: locale must be a uint16", false);
  }
  out.push(q.locale & 0xff, q.locale >> 8);
  out.push(...lengthPrefixed(Buffer.from(q.deviceId, "utf8"), "device id"));
  if (q.policyKey === undefined) out.push(0);
  else {
    const pk = Buffer.alloc(4);
    pk.writeUInt32LE(q.policyKey >>> 0);
    out.push(4, ...pk);
  }
  out.push(...lengthPrefixed(Buffer.from(q.deviceType, "utf8"), "device type"));
  for (const p of q.parameters)
    out.push(byte(p.tag, "parameter tag"), ...lengthPrefixed(p.value, "parameter"));
  return Uint8Array.from(out);
}

/** Encodes the query as its base64 value (the whole query string of the request URL). */
export function encodeAsQuery(q: AsQuery): string {
  return Buffer.from(encodeAsQueryBytes(q)).toString("base64");
}

/** Decodes a base64 query value. @throws ProtocolParseError `Parse` when truncated or malformed. */
export function decodeAsQuery(base64: string): AsQuery {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw bad("not base64");
  const b = Buffer.from(text, "base64");
  let pos = 0;
  const take = (n: number, what: string): Buffer => {
    if (pos + n > b.length) throw bad(`truncated at ${what}`);
    const out = b.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const one = (what: string): number => take(1, what)[0]!;
  const protocolVersion = one("protocol version");
  const command = one("command");
  const locale = take(2, "locale").readUInt16LE(0);
  const deviceId = take(one("device id length"), "device id").toString("utf8");
  const pkLen = one("policy key length");
  let policyKey: number | undefined;
  if (pkLen === 4) policyKey = take(4, "policy key").readUInt32LE(0);
  else if (pkLen !== 0) throw bad(`policy key of ${pkLen} bytes`);
  const deviceType = take(one("device type length"), "device type").toString("utf8");
  const parameters: AsQueryParameter[] = [];
  while (pos < b.length) {
    const tag = one("parameter tag");
    parameters.push({ tag, value: Uint8Array.from(take(one("parameter length"), "parameter value")) });
  }
  return { protocolVersion, command, locale, deviceId, policyKey, deviceType, parameters };
}
