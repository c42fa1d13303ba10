// SPDX-License-Identifier: Apache-2.0
/**
 * Benchmark of the MSNP24 frame parser and SDG body builder/parser: throughput of a realistic
 * stream cut into TCP-sized chunks, and of one maximal frame arriving in small chunks.
 * Prints figures; asserts nothing (run: `npm run bench`).
 */
import { performance } from "node:perf_hooks";
import { parseMultipart } from "../src/skype/msnp/body.js";
import { encodeFrame, FrameParser } from "../src/skype/msnp/framing.js";
import { buildSdgBody } from "../src/skype/msnp/messages.js";

const sender = {
  mri: "8:live:alice_1",
  epid: "2f9c1e1a-0000-4000-8000-000000000001",
  displayName: "Alice Liddell",
};

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function report(name: string, bytes: number, items: number, ms: number): void {
  const mb = bytes / 1024 / 1024;
  process.stdout.write(
    `${name.padEnd(44)} ${(mb / (ms / 1000)).toFixed(1).padStart(8)} MiB/s ${((items / ms) * 1000).toFixed(0).padStart(9)} items/s  (${mb.toFixed(1)} MiB, ${ms.toFixed(0)} ms)\n`,
  );
}

function streamOfMessages(n: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const payload = buildSdgBody(
      "8:live:bob_1",
      sender,
      { kind: "text", text: `message ${i}: héllo wörld ✓ ` + "x".repeat(i % 200) },
      String(1e18 + i),
    );
    frames.push(encodeFrame({ command: "SDG", trid: 0, type: "MSGR", body: payload }));
  }
  return Buffer.concat(frames);
}

function benchStream(n: number, chunk: number): void {
  const stream = streamOfMessages(n);
  const chunks = chunked(stream, chunk);
  const t0 = performance.now();
  const parser = new FrameParser();
  let frames = 0;
  for (const c of chunks)
    for (const f of parser.push(c)) {
      frames++;
      parseMultipart(f.body);
    }
  const ms = performance.now() - t0;
  if (frames !== n) throw new Error(`parsed ${frames} of ${n} frames`);
  report(`parse+body ${n} SDG frames, ${chunk}-byte chunks`, stream.length, n, ms);
}

function benchBigFrame(chunk: number): void {
  const payload = Buffer.alloc(1024 * 1024 - 64, 0x61);
  const frame = encodeFrame({ command: "SDG", trid: 1, type: "MSGR", body: payload });
  const chunks = chunked(frame, chunk);
  const t0 = performance.now();
  const parser = new FrameParser({ maxFrameBytes: 2 * 1024 * 1024 });
  let frames = 0;
  for (const c of chunks) frames += parser.push(c).length;
  const ms = performance.now() - t0;
  if (frames !== 1) throw new Error("the big frame was not parsed");
  report(`one 1 MiB frame in ${chunk}-byte chunks`, frame.length, 1, ms);
}

function benchBuild(n: number): void {
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    bytes += buildSdgBody("8:live:bob_1", sender, { kind: "text", text: `message ${i}` }, String(i)).length;
  }
  report(`build ${n} SDG bodies`, bytes, n, performance.now() - t0);
}

const heap0 = process.memoryUsage().heapUsed;
benchStream(20_000, 1400);
benchStream(20_000, 64);
benchBigFrame(1024);
benchBigFrame(64);
benchBuild(50_000);
process.stdout.write(
  `heap used after the runs: ${((process.memoryUsage().heapUsed - heap0) / 1024 / 1024).toFixed(1)} MiB more than at start\n`,
);
