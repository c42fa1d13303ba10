// SPDX-License-Identifier: Apache-2.0
/**
 * The fuzz harness shared by test/unit/fuzz/*.test.ts (10⁴ inputs per target in `npm test`) and
 * test/unit/fuzz/long-run.ts (`npm run fuzz:long`, 10⁶ inputs per target).
 *
 * Every target runs with a fixed seed derived from its name, so a run is the same every time and a
 * failure can be replayed: the failure message prints the seed and fast-check's shrink path, and
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path> FUZZ_ONLY=<name>` reruns exactly that counterexample.
 *
 * Besides the target's own checks the harness enforces, per input, a time limit (a synchronous
 * hang cannot be interrupted, so the time is checked after each input and node:test's timeout
 * catches a true hang), and over the run, a bound on RSS growth (sampled every 256 inputs).
 */
import { performance } from "node:perf_hooks";
import fc from "fast-check";

export interface FuzzTarget<T = unknown> {
  /** Unique, stable: also the source of the default seed. */
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws (an assertion) when the input shows a bug. */
  check(input: T): void;
  /** Per-input time limit in ms (default 1,000: inputs are at most a few hundred KB). */
  readonly maxMsPerInput?: number;
  /** Inputs relative to the default count (expensive targets run fewer). Default 1. */
  readonly weight?: number;
}

/** A target with its input type erased, for lists of targets. */
export type SomeTarget = FuzzTarget<never>;

/** Declares a target (checks its types) and erases its input type. */
export function defineTarget<T>(target: FuzzTarget<T>): SomeTarget {
  return target as unknown as SomeTarget;
}

/** What one run of a target did. */
export interface FuzzResult {
  name: string;
  runs: number;
  seed: number;
  ms: number;
  slowestMs: number;
  /** RSS growth over the run (peak sample minus the RSS at the start), in bytes. */
  rssGrowth: number;
  peakRss: number;
  failure?: string;
}

/** The harness's own failure kinds, so a report can tell them from the target's assertions. */
export class FuzzLimitError extends Error {
  override name = "FuzzLimitError";
}

/** Default inputs per target in `npm test`; `FUZZ_RUNS` overrides. */
export const DEFAULT_RUNS = 10_000;
/** A run whose RSS grows more than this has leaked or buffered without bound. */
export const MAX_RSS_GROWTH = 512 * 1024 * 1024;

/** FNV-1a of the name: a stable 32-bit seed per target. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, not ${JSON.stringify(v)}`);
  return n;
}

/** True when `FUZZ_ONLY` is unset or names this target (substring match). */
export function selected(name: string): boolean {
  const only = process.env.FUZZ_ONLY;
  return only === undefined || only === "" || name.includes(only);
}

function describe(value: unknown): string {
  const text = fc.stringify(value);
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length} characters)` : text;
}

/** Runs one target; never throws (the result carries the failure). */
export function runTarget<T>(
  target: FuzzTarget<T>,
  baseRuns = envInt("FUZZ_RUNS") ?? DEFAULT_RUNS,
): FuzzResult {
  const runs = Math.max(1, Math.round(baseRuns * (target.weight ?? 1)));
  const seed = envInt("FUZZ_SEED") ?? seedOf(target.name);
  const path = process.env.FUZZ_PATH || undefined;
  const limit = target.maxMsPerInput ?? 1000;
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  let slowest = 0;
  let count = 0;
  const started = performance.now();
  const details = fc.check(
    fc.property(target.arbitrary, (input) => {
      const timed = (): number => {
        const t0 = performance.now();
        target.check(input);
        return performance.now() - t0;
      };
      let dt = timed();
      // A slow input is timed again before it counts: a hang or a quadratic path is slow every
      // time, a GC pause or a busy machine (npm test shares two cores with Synapse) is not.
      if (dt > limit) dt = Math.min(dt, timed());
      if (dt > slowest) slowest = dt;
      if (dt > limit)
        throw new FuzzLimitError(`one input took ${dt.toFixed(0)} ms (limit ${limit} ms), twice`);
      if (++count % 256 === 0) {
        const rss = process.memoryUsage().rss;
        if (rss > peakRss) peakRss = rss;
        if (rss - startRss > MAX_RSS_GROWTH) {
          throw new FuzzLimitError(
            `RSS grew by ${Math.round((rss - startRss) / 2 ** 20)} MiB during the run`,
          );
        }
      }
    }),
    { numRuns: runs, seed, path, endOnFailure: path === undefined ? false : true },
  );
  const ms = performance.now() - started;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const result: FuzzResult = {
    name: target.name,
    runs: details.numRuns,
    seed,
    ms,
    slowestMs: slowest,
    rssGrowth: peakRss - startRss,
    peakRss,
  };
  if (details.failed) {
    const err = details.errorInstance;
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    result.failure =
      `fuzz target "${target.name}" failed after ${details.numRuns} inputs\n` +
      `  error: ${why}\n` +
      `  counterexample: ${describe(details.counterexample)}\n` +
      `  replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ""} ` +
      `FUZZ_ONLY=${JSON.stringify(target.name)} node --import tsx --test <this file>`;
  }
  return result;
}

/** For node:test: runs the target and throws its failure, if any. */
export function assertTarget<T>(target: FuzzTarget<T>): FuzzResult {
  const r = runTarget(target);
  if (r.failure) throw new Error(r.failure);
  return r;
}

/** Calls `fn`; a thrown error must satisfy `ok`, else it is rethrown as the failure. */
export function onlyTypedErrors<R>(fn: () => R, ok: (e: unknown) => boolean): R | undefined {
  try {
    return fn();
  } catch (e) {
    if (ok(e)) return undefined;
    throw e;
  }
}

/** Splits `buf` into chunks at the given cut points (sorted, deduplicated, in range). */
export function chunk(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(0, c), buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(buf.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < buf.length) out.push(buf.subarray(from));
  return out;
}
