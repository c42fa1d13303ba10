// SPDX-License-Identifier: Apache-2.0
/**
 * The MSNP challenge answer (REFERENCE §4.3.3), used by `PUT MSGR\CHALLENGE`: MD5 of challenge +
 * product key, a CS64 mix over the challenge + product id, and the two results XORed together.
 */
import { createHash } from "node:crypto";

/** Skype's product id / key pair (PROFILE §3). */
export const SKYPE_PRODUCT_ID = "PROD0090YUAUV{2B";
export const SKYPE_PRODUCT_KEY = "YMM8C_H7KCQ2S_KL";

const MOD = 0x7fffffffn;
const MUL = 0x0e79a9c1n;

/** Computes the 32 lower-case hex digit answer to `challenge` for the given product. */
export function challengeAnswer(
  challenge: string,
  productId = SKYPE_PRODUCT_ID,
  productKey = SKYPE_PRODUCT_KEY,
): string {
  const digest = createHash("md5")
    .update(challenge + productKey, "utf8")
    .digest();
  const words = [0, 1, 2, 3].map((i) => digest.readUInt32LE(i * 4));
  const k = words.map((w) => BigInt(w & 0x7fffffff));
  let text = challenge + productId;
  if (text.length % 8 !== 0) text = text.padEnd(text.length + 8 - (text.length % 8), "0");
  const bytes = Buffer.from(text, "utf8");
  const parts: bigint[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 4) parts.push(BigInt(bytes.readUInt32LE(i)));
  let high = 0n;
  let low = 0n;
  for (let i = 0; i + 1 < parts.length; i += 2) {
    let temp = ((parts[i]! * MUL) % MOD) + high;
    temp = (k[0]! * temp + k[1]!) % MOD;
    high = (parts[i + 1]! + temp) % MOD;
    high = (k[2]! * high + k[3]!) % MOD;
    low += high + temp;
  }
  high = (high + k[1]!) % MOD;
  low = (low + k[3]!) % MOD;
  const out = Buffer.alloc(16);
  const hi = Number(high);
  const lo = Number(low);
  out.writeUInt32LE((words[0]! ^ hi) >>> 0, 0);
  out.writeUInt32LE((words[1]! ^ lo) >>> 0, 4);
  out.writeUInt32LE((words[2]! ^ hi) >>> 0, 8);
  out.writeUInt32LE((words[3]! ^ lo) >>> 0, 12);
  return out.toString("hex");
}
