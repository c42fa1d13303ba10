// SPDX-License-Identifier: Apache-2.0
/**
 * The MSNP challenge response ("CS64", REFERENCE §4.3.3), used by MSNP24's `PUT MSGR\CHALLENGE`:
 * MD5(challenge + productKey) gives four little-endian words; challenge + productId, padded with
 * '0' to a multiple of 8, is mixed through CS64 (constant 0x0E79A9C1, modulus 0x7FFFFFFF); the two
 * results are XORed into the MD5 words.
 */
import { createHash } from "node:crypto";

/** Skype's product id and key (PROFILE §3). */
export const SKYPE_PRODUCT_ID = "PROD0090YUAUV{2B";
export const SKYPE_PRODUCT_KEY = "YMM8C_H7KCQ2S_KL";

const MOD = 0x7fffffffn;
const MAGIC = 0x0e79a9c1n;

/** Returns the 32 lower-case hex digits answering `challenge`. Pure; never throws. */
export function cs64Response(
  challenge: string,
  productId = SKYPE_PRODUCT_ID,
  productKey = SKYPE_PRODUCT_KEY,
): string {
  const md5 = createHash("md5")
    .update(challenge + productKey, "utf8")
    .digest();
  const hashWords = [0, 1, 2, 3].map((i) => md5.readUInt32LE(i * 4));
  const [h0, h1, h2, h3] = hashWords.map((w) => BigInt(w & 0x7fffffff)) as [bigint, bigint, bigint, bigint];

  let chl = challenge + productId;
  chl += "0".repeat((8 - (chl.length % 8)) % 8);
  const bytes = Buffer.from(chl, "latin1");
  const words: bigint[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 4) words.push(BigInt(bytes.readUInt32LE(i)));

  let high = 0n;
  let low = 0n;
  for (let i = 0; i + 1 < words.length; i += 2) {
    let temp = (words[i]! * MAGIC) % MOD;
    temp = (h0 * (temp + high) + h1) % MOD;
    high = (words[i + 1]! + temp) % MOD;
    high = (h2 * high + h3) % MOD;
    low = low + high + temp;
  }
  high = (high + h1) % MOD;
  low = (low + h3) % MOD;

  const out = Buffer.alloc(16);
  const hi = Number(high);
  const lo = Number(low);
  [hi, lo, hi, lo].forEach((k, i) => out.writeUInt32LE((hashWords[i]! ^ k) >>> 0, i * 4));
  return out.toString("hex");
}
