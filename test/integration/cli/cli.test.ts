// SPDX-License-Identifier: Apache-2.0
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import yaml from "js-yaml";
import type { RunningReferenceServer } from "../../../refserver/index.js";

const ROOT = resolve(__dirname, "..", "..", "..");
const KEY = "0123456789abcdef".repeat(4);

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src", "main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    input,
    env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: KEY },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("a config file with three mistakes reports all three with their paths and exits non-zero", () => {
  const r = cli(["-c", "test/fixtures/config/three-mistakes.yaml", "-f", "/nonexistent/reg.yaml"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /has 3 problem\(s\)/);
  assert.match(r.stderr, /^homeserver\.url: /m);
  assert.match(r.stderr, /^skype\.endpoints\.msnp: /m);
  assert.match(r.stderr, /^logging\.level: /m);
});

test("encryption.require without encryption.enabled stops the start with a clear message", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "skype-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = yaml.load(readFileSync("test/fixtures/config/encryption-enabled.yaml", "utf8")) as Record<
    string,
    unknown
  >;
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml.dump({ ...config, encryption: { enabled: false, require: true } }));
  const r = cli(["-c", file, "-f", "/nonexistent/reg.yaml"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^encryption\.require: needs encryption\.enabled: true/im);
});

test("-r with encryption on writes the MSC3202 and MSC2409 flags", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "skype-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "registration.yaml");
  const r = cli([
    "-r",
    "-c",
    "test/fixtures/config/encryption-enabled.yaml",
    "-f",
    file,
    "-u",
    "http://127.0.0.1:1",
  ]);
  assert.equal(r.status, 0, r.stderr);
  const reg = yaml.load(readFileSync(file, "utf8")) as Record<string, unknown>;
  assert.equal(reg["org.matrix.msc3202"], true);
  assert.equal(reg["de.sorunome.msc2409.push_ephemeral"], true);
});

test("validate-config accepts the sample config", () => {
  const r = cli(["validate-config", "-c", "config.sample.yaml"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /config\.sample\.yaml is valid/);
});

test("-r writes a registration Synapse can load, with tokens and namespaces", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "skype-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "registration.yaml");
  const r = cli(["-r", "-c", "config.sample.yaml", "-f", file, "-u", "http://127.0.0.1:29330"]);
  assert.equal(r.status, 0, r.stderr);
  const reg = yaml.load(readFileSync(file, "utf8")) as Record<string, unknown>;
  assert.equal(reg.url, "http://127.0.0.1:29330");
  assert.equal(reg.sender_localpart, "skypebot");
  assert.equal(reg.rate_limited, false);
  assert.equal(reg.receive_ephemeral, true);
  assert.match(String(reg.as_token), /^[0-9a-f]{64}$/);
});

test("wrong usage gets the usage text and a non-zero exit", () => {
  const r = cli(["--frobnicate"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown argument "--frobnicate"/);
  assert.match(r.stderr, /Usage:/);
  const r2 = cli(["-r", "-c", "config.sample.yaml", "-f", "x.yaml"]);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /-u <bridge url> is required with -r/);
});

describe("probe against the reference server", () => {
  let ref: RunningReferenceServer;
  let dir: string;
  let config: string;
  before(async () => {
    const { startReferenceServer } = await import("../../../refserver/index.js");
    ref = await startReferenceServer();
    dir = mkdtempSync(join(tmpdir(), "skype-probe-msnp-"));
    config = join(dir, "config.yaml");
    writeFileSync(
      config,
      yaml.dump({
        homeserver: { url: "http://127.0.0.1:8008", domain: "localhost" },
        appservice: { url: "http://127.0.0.1:29330" },
        skype: { endpoints: ref.endpoints, msnp_tls: false },
        permissions: { "*": "user" },
      }),
    );
  });
  after(async () => {
    await ref.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const probe = (extra: string[]) =>
    spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(ROOT, "src", "main.ts"),
        "probe",
        "-c",
        config,
        "--user",
        "alice@hotmail.co.uk",
        ...extra,
      ],
      { cwd: ROOT, env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: KEY } },
    );

  /** Runs the probe with `password` on standard input and collects its output. */
  const run = (
    password: string,
    extra: string[] = [],
  ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolveRun) => {
      const child = probe(extra);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(password + "\n");
      child.on("close", (status) => resolveRun({ status, stdout, stderr }));
    });

  test("signs in and prints the contacts with merged identities; a wrong password is one clear line", async () => {
    const ok = await run("wonderland");
    assert.equal(ok.status, 0, ok.stderr);
    const result = JSON.parse(ok.stdout) as {
      identities: string[];
      contacts: { identities: string[]; displayName: string }[];
      pending: string[];
      blocked: string[];
    };
    assert.deepEqual(result.identities, ["1:alice@hotmail.co.uk", "8:live:alice_1"]);
    assert.deepEqual(result.contacts.find((c) => c.displayName === "Bob Builder")?.identities, [
      "1:bob@outlook.com",
      "8:live:bob_1",
    ]);
    assert.deepEqual(result.pending, ["1:carol@live.com"]);
    assert.deepEqual(result.blocked, ["8:live:mallory"]);
    assert.ok(!/EwA|refresh_token|access_token|wonderland/.test(ok.stdout + ok.stderr));
    const bad = await run("wrong");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^probe failed: SKYPE_WRONG_PASSWORD: .*incorrect/m);
    assert.ok(!bad.stderr.includes("wrong\n"));
  });

  test("--send exchanges a message with the echo contact", async () => {
    const { status, stdout, stderr } = await run("wonderland", [
      "--send",
      "8:echo123",
      "héllo echo ✓",
      "--wait",
      "20",
    ]);
    assert.equal(status, 0, stderr);
    const line = JSON.parse(stdout.trim()) as { from: string; text: string; messageId: string };
    assert.equal(line.from, "8:echo123");
    assert.equal(line.text, "héllo echo ✓");
    assert.match(line.messageId, /^\d+$/);
  });

  test("--listen prints incoming events as JSON lines until interrupted", async () => {
    const child = probe(["--listen"]);
    const lines: Record<string, unknown>[] = [];
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    child.stdin.end("wonderland\n");
    const deadline = Date.now() + 30_000;
    const findEvent = () => lines.find((l) => l.event === "message" && l.body === "ping from bob");
    while (!findEvent() && Date.now() < deadline) {
      if (ref.msnp.endpoints().some((e) => JSON.stringify(e).includes("alice"))) {
        ref.msnp.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "ping from bob" });
        await new Promise((r) => setTimeout(r, 1000));
      } else {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    child.kill("SIGINT");
    const status = await new Promise<number | null>((r) => child.on("close", r));
    const msg = findEvent();
    assert.ok(msg, `no message event in ${JSON.stringify(lines)}`);
    assert.equal(msg.sender, "8:live:bob_1");
    assert.equal(status, 0);
  });
});
