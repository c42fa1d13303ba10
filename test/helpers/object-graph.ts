// SPDX-License-Identifier: Apache-2.0
/**
 * What an object still holds, for tests that check a client keeps no copy of something per
 * session (BENCHMARKS.md, cause 5): a walk over own property values, Map and Set members, to a depth.
 */

/** Every value reachable from `root` within `depth` steps (objects once each; strings included). */
export function valuesUnder(root: unknown, depth = 4): Set<unknown> {
  const found = new Set<unknown>();
  const walk = (v: unknown, left: number): void => {
    if (typeof v === "string") {
      found.add(v);
      return;
    }
    if (v === null || typeof v !== "object" || found.has(v)) return;
    found.add(v);
    if (left === 0) return;
    const values = v instanceof Map || v instanceof Set ? [...v.values()] : Object.values(v);
    for (const x of values) walk(x, left - 1);
  };
  walk(root, depth);
  return found;
}

/** The strings reachable from `root` within `depth` steps that start with `prefix`. */
export function stringsUnder(root: unknown, prefix: string, depth = 4): string[] {
  return [...valuesUnder(root, depth)].filter(
    (v): v is string => typeof v === "string" && v.startsWith(prefix),
  );
}
