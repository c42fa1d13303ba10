// SPDX-License-Identifier: Apache-2.0
/** Reading a child process's CPU time from /proc (Linux), to tell when it has settled. */
import { readFileSync, writeFileSync } from "node:fs";

/** CPU seconds (user + system) the process has used; NaN when unreadable. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Waits until the process used less than `maxShare` of one core for `quietSeconds` seconds in a
 * row, at most `timeoutMs`. Returns how long it waited (ms) and whether it did settle.
 */
export async function settle(
  pid: number | undefined,
  opts: { maxShare?: number; quietSeconds?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; settled: boolean }> {
  const maxShare = opts.maxShare ?? 0.05;
  const quiet = opts.quietSeconds ?? 2;
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 60_000);
  let calm = 0;
  let last = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds(pid);
    if (Number.isNaN(now)) break;
    calm = now - last < maxShare ? calm + 1 : 0;
    last = now;
    if (calm >= quiet) return { waitedMs: Date.now() - t0, settled: true };
  }
  return { waitedMs: Date.now() - t0, settled: false };
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS (Linux: `echo 5 > /proc/<pid>/clear_refs`),
 * so that `peakRssBytes` afterwards tells the highest RSS since now. False when not permitted.
 */
export function resetPeakRss(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** The process's peak RSS in bytes (VmHWM in /proc/<pid>/status); NaN when unreadable. */
export function peakRssBytes(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Where a process's resident memory lies, from /proc/<pid>/smaps (Linux), in bytes:
 * - `brk`: the `[heap]` mapping, glibc malloc's main arena;
 * - `anonSmall`: anonymous mappings under 1 MiB: mostly V8's heap pages (256 KiB each), also
 *   malloc's large single allocations;
 * - `anonLarge`: anonymous mappings of 1 MiB or more (V8's heap reservations, the other malloc arenas,
 *   WebAssembly memories);
 * - `file`: mappings of files (code, shared libraries, SQLite's memory map if any);
 * - `other`: the rest (`[stack]`, `[vvar]`, …).
 * Null when unreadable.
 */
export interface MemoryMap {
  brk: number;
  anonSmall: number;
  anonLarge: number;
  file: number;
  other: number;
}

export function memoryMap(pid: number | undefined, dumpTo?: string): MemoryMap | null {
  if (!pid) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, "utf8");
  } catch {
    return null;
  }
  if (dumpTo) writeFileSync(dumpTo, text);
  const map: MemoryMap = { brk: 0, anonSmall: 0, anonLarge: 0, file: 0, other: 0 };
  let kind: keyof MemoryMap = "other";
  for (const line of text.split("\n")) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const size = parseInt(header[2]!, 16) - parseInt(header[1]!, 16);
      const path = header[3]!;
      if (path === "[heap]") kind = "brk";
      else if (path === "") kind = size >= 1024 * 1024 ? "anonLarge" : "anonSmall";
      else if (path.startsWith("/")) kind = "file";
      else kind = "other";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) map[kind] += Number(rss[1]) * 1024;
  }
  return map;
}
