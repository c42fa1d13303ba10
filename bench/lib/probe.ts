// SPDX-License-Identifier: Apache-2.0
/**
 * Loaded into the bridge process by the benchmarks (`node --import tsx --import bench/lib/probe.ts
 * src/main.ts …`, with an IPC channel): an event-loop delay histogram and memory figures, read and
 * reset over IPC. It changes nothing in the bridge; the channel is unref'd so it never keeps the
 * process alive.
 *
 * Messages: `{id, cmd: "sample" | "reset" | "gc"}` → `{id, sample}`; `gc` runs a full collection
 * first (the bridge runs with --expose-gc under the benchmark). `{id, cmd: "heapsnapshot", path}`
 * writes a heap snapshot there first (for finding where memory goes; slow). `allocations-start` and
 * `{cmd: "allocations-stop", path}` sample every allocation in between, garbage included (V8's
 * sampling heap profiler with the objects later collected kept), and write the profile there as a
 * `.heapprofile` (for finding what a phase allocates, e.g. a reconnect storm). `cpu-start` and
 * `{cmd: "cpu-stop", path}` do the same with V8's CPU profiler (1 ms samples), written as a
 * `.cpuprofile` (for finding what holds the event loop in a phase, e.g. the chat window).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";

export interface ProbeSample {
  /** Event-loop delay since the last reset, ms. */
  lag: { p50: number; p99: number; max: number; mean: number; samples: number };
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  uptimeMs: number;
}

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

function sample(): ProbeSample {
  const m = process.memoryUsage();
  const ms = (ns: number): number => ns / 1e6;
  return {
    lag: {
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      mean: ms(histogram.mean),
      samples: histogram.count,
    },
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    uptimeMs: process.uptime() * 1000,
  };
}

let inspector: Session | undefined;

function post(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  if (!inspector) {
    inspector = new Session();
    inspector.connect();
  }
  const session = inspector;
  return new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

async function allocations(cmd: string, path?: string): Promise<void> {
  if (cmd === "allocations-start") {
    await post("HeapProfiler.startSampling", {
      samplingInterval: 32768,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } else if (path) {
    const { profile } = (await post("HeapProfiler.stopSampling")) as { profile: unknown };
    writeFileSync(path, JSON.stringify(profile));
  }
}

async function cpu(cmd: string, path?: string): Promise<void> {
  if (cmd === "cpu-start") {
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 1000 });
    await post("Profiler.start");
  } else if (path) {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    writeFileSync(path, JSON.stringify(profile));
  }
}

if (process.send) {
  process.on("message", (msg: { id?: number; cmd?: string; path?: string }) => {
    if (msg.cmd === "cpu-start" || msg.cmd === "cpu-stop") {
      void cpu(msg.cmd, msg.path)
        .catch((e: unknown) => process.stderr.write(`probe: ${String(e)}\n`))
        .then(() => process.send?.({ id: msg.id, sample: sample() }));
      return;
    }
    if (msg.cmd === "allocations-start" || msg.cmd === "allocations-stop") {
      void allocations(msg.cmd, msg.path)
        .catch((e: unknown) => process.stderr.write(`probe: ${String(e)}\n`))
        .then(() => process.send?.({ id: msg.id, sample: sample() }));
      return;
    }
    if (msg.cmd === "heapsnapshot" && msg.path) writeHeapSnapshot(msg.path);
    if (msg.cmd === "gc") {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
    }
    const s = sample();
    if (msg.cmd === "reset") histogram.reset();
    process.send?.({ id: msg.id, sample: s });
  });
  process.channel?.unref();
}
