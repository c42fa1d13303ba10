// SPDX-License-Identifier: Apache-2.0
/**
 * Memory of the bridge while it bridges one large file each way (images and files stream; nothing
 * should hold the object whole, let alone twice). Runs the e2e stack (real Synapse, the bridge as a
 * child process, the reference server), sends a `MEDIA_MB` (default 100) MiB file Skype → Matrix and
 * then Matrix → Skype, checks both arrive byte for byte, and prints the bridge process's resident
 * memory (VmRSS) before and its peak (VmHWM, from /proc) after each, as one JSON object.
 *
 *   node --import tsx bench/media-memory.ts
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { ControlClient } from "../test/e2e/harness/control.js";
import { E2EEnv } from "../test/e2e/harness/env.js";
import { waitFor } from "../test/e2e/harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const MB = Number(process.env.MEDIA_MB ?? 100);
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb("VmRSS") / 1024), peakMiB: Math.round(kb("VmHWM") / 1024) };
}

async function main(): Promise<void> {
  const env = await E2EEnv.create({ synapse: { max_upload_size: `${MB * 2}M` } });
  try {
    const pid = (env as unknown as { bridge: ChildProcess }).bridge.pid!;
    const control = new ControlClient(env.skype.controlUrl);
    const human = await env.human("alice");
    await env.linkSkype(human, await env.openManagementRoom(human));
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "large files coming" });
    const dm = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && /bob/.test(e.sender),
      "the DM",
    );
    await human.joinRoom(dm);
    await waitFor(() => human.messagesIn(dm)[0], { what: "the first message" });
    const idle = memory(pid);

    const toMatrix = randomBytes(MB * 1024 * 1024);
    let t0 = Date.now();
    await control.mediaSend({ from: BOB, to: ALICE_SKYPE, kind: "file", name: "big.bin", content: toMatrix });
    const ev = await waitFor(
      () =>
        human.messagesIn(dm).find((e) => e.content.msgtype === "m.file" || e.content.msgtype === "m.notice"),
      { what: "the file in Matrix", timeoutMs: Number(process.env.MEDIA_TIMEOUT_MS ?? 600_000) },
    );
    assert.equal(ev.content.msgtype, "m.file", `a file, not: ${String(ev.content.body)}`);
    const skypeToMatrixMs = Date.now() - t0;
    const afterS2M = memory(pid);
    const m = /^mxc:\/\/([^/]+)\/(.+)$/.exec(String(ev.content.url))!;
    const res = await fetch(`${env.synapse.url}/_matrix/client/v1/media/download/${m[1]}/${m[2]}`, {
      headers: { authorization: `Bearer ${human.accessToken}` },
    });
    assert.equal(sha(Buffer.from(await res.arrayBuffer())), sha(toMatrix));

    const toSkype = randomBytes(MB * 1024 * 1024);
    const mxc = await human.uploadContent(toSkype, "application/octet-stream", "up.bin");
    t0 = Date.now();
    await human.sendMessage(dm, {
      msgtype: "m.file",
      body: "up.bin",
      url: mxc,
      info: { size: toSkype.length },
    });
    const sent = await waitFor(
      async () =>
        (await control.messages({ user: "alice@hotmail.co.uk" })).find(
          (x) => x.from === ALICE_SKYPE && x.messageType === "RichText/Media_GenericFile",
        ),
      { what: "the file on Skype", timeoutMs: Number(process.env.MEDIA_TIMEOUT_MS ?? 600_000) },
    );
    const matrixToSkypeMs = Date.now() - t0;
    const afterM2S = memory(pid);
    const id = decodeURIComponent(/\/v1\/objects\/([^"/]+)"/.exec(sent.content)![1]!);
    const obj = await control.mediaGetObject(id);
    assert.equal(sha(Buffer.from(obj!.contentBase64!, "base64")), sha(toSkype));

    process.stdout.write(
      JSON.stringify(
        {
          fileMiB: MB,
          bridge: { idle, afterSkypeToMatrix: afterS2M, afterMatrixToSkype: afterM2S },
          skypeToMatrixMs,
          matrixToSkypeMs,
          byteForByte: true,
        },
        null,
        2,
      ) + "\n",
    );
  } finally {
    await env.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
