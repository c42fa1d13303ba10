// SPDX-License-Identifier: Apache-2.0
/** The order of Skype Message-IDs, used by the protocol client's catch-up and the store's cursors. */

/**
 * Orders Skype Message-IDs: decimal ids by numeric value (they exceed 2^53, so compared as
 * strings by length first, leading zeros ignored), anything else as plain strings. Negative: a < b.
 */
export function compareMessageIds(a: string, b: string): number {
  const dec = /^\d+$/;
  if (dec.test(a) && dec.test(b)) {
    const x = a.replace(/^0+(?=\d)/, "");
    const y = b.replace(/^0+(?=\d)/, "");
    if (x.length !== y.length) return x.length - y.length;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
