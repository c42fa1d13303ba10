// SPDX-License-Identifier: Apache-2.0
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import yaml from "js-yaml";

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

test("encryption switched on stops the start with a clear message", () => {
  const r = cli(["-c", "test/fixtures/config/encryption-enabled.yaml", "-f", "/nonexistent/reg.yaml"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^encryption\.enabled: .*unavailable/im);
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
