// SPDX-License-Identifier: Apache-2.0
/**
 * registration.yaml.example is what `skype-bridge -r` writes for config.sample.yaml (with the
 * README's `-u http://127.0.0.1:29330`), key for key: the same keys in the same order, the same value
 * types, the same namespaces, equal values, and placeholders exactly where the generator puts random
 * tokens. Every key carries a comment.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { TOKEN_KEY_ENV, loadConfig } from "../../../src/config/index.js";
import { generateRegistration, type RegistrationInput } from "../../../src/bridge/matrix/registration.js";
import { writeRegistrationFile } from "../../../src/cli/register.js";
import { path, read } from "./files.js";

const ENV = { [TOKEN_KEY_ENV]: "a passphrase for the self-hosting tests" };
const config = loadConfig(path("config.sample.yaml"), ENV);
const example = yaml.load(read("registration.yaml.example")) as Record<string, unknown>;

/** What `-r -c config.sample.yaml -u <appservice.url>` writes, read back as YAML. */
function written(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "selfhost-reg-"));
  try {
    const file = join(dir, "registration.yaml");
    writeRegistrationFile(config, file, config.appservice.url);
    return yaml.load(readFileSync(file, "utf8")) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The keys whose values differ between two generations from the same input: the random ones. */
function randomKeys(): string[] {
  const input: RegistrationInput = {
    id: "skype",
    url: "http://127.0.0.1:29330",
    botLocalpart: "skypebot",
    domain: "localhost",
    localpartTemplate: "skype_{id}",
  };
  const a = generateRegistration(input) as unknown as Record<string, unknown>;
  const b = generateRegistration(input) as unknown as Record<string, unknown>;
  return Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

const kind = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Walks both values together; calls `leaf` for every pair of non-container values. */
function compareShape(
  expected: unknown,
  actual: unknown,
  where: string,
  leaf: (where: string, e: unknown, a: unknown) => void,
): void {
  assert.equal(kind(actual), kind(expected), `${where}: ${kind(actual)} where -r writes ${kind(expected)}`);
  if (Array.isArray(expected)) {
    const arr = actual as unknown[];
    assert.equal(
      arr.length,
      expected.length,
      `${where}: ${arr.length} entries, -r writes ${expected.length}`,
    );
    expected.forEach((e, i) => compareShape(e, arr[i], `${where}[${i}]`, leaf));
  } else if (kind(expected) === "object") {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    assert.deepEqual(Object.keys(a), Object.keys(e), `${where || "top level"}: keys (in order)`);
    for (const k of Object.keys(e)) compareShape(e[k], a[k], where ? `${where}.${k}` : k, leaf);
  } else {
    leaf(where, expected, actual);
  }
}

void test("the generator's random values are the two tokens, 64 hex digits each", () => {
  const random = randomKeys();
  assert.ok(random.length > 0, "the generator puts random tokens somewhere");
  const reg = written();
  for (const k of random) assert.match(String(reg[k]), /^[0-9a-f]{64}$/, k);
});

void test("registration.yaml.example has the generator's keys, types and namespaces, with placeholders for its random tokens", () => {
  const reg = written();
  const random = new Set(randomKeys());
  compareShape(reg, example, "", (where, expected, actual) => {
    if (random.has(where)) {
      assert.equal(typeof actual, "string", `${where} is a string`);
      assert.match(actual as string, /^CHANGE_ME_[A-Z_]+$/, `${where} is a placeholder`);
      assert.doesNotMatch(actual as string, /^[0-9a-f]{64}$/, `${where} must not look like a real token`);
    } else {
      assert.deepEqual(
        actual,
        expected,
        `${where}: the example says ${String(actual)}, -r writes ${String(expected)}`,
      );
    }
  });
  // Each placeholder names its own token.
  const placeholders = [...random].map((k) => example[k]);
  assert.equal(new Set(placeholders).size, placeholders.length, "distinct placeholders");
});

void test("the example's user namespaces match the bot and puppet ids the bridge makes", () => {
  const users = (example.namespaces as { users: { regex: string }[] }).users.map((u) => new RegExp(u.regex));
  const domain = config.homeserver.domain;
  const bot = `@${config.appservice.bot_localpart}:${domain}`;
  const puppet = `@skype_8=3alive=3aalice__1:${domain}`;
  assert.ok(
    users.some((r) => r.test(bot)),
    bot,
  );
  assert.ok(
    users.some((r) => r.test(puppet)),
    puppet,
  );
  assert.ok(!users.some((r) => r.test(`@alice:${domain}`)), "an ordinary user is not claimed");
});

void test("every key of registration.yaml.example has a comment", () => {
  const lines = read("registration.yaml.example").split("\n");
  const keyLines = lines
    .map((text, i) => ({ text, i }))
    .filter(({ text }) => /^\s*[a-z_]+:/.test(text) && !/^\s*-/.test(text));
  const commented = (i: number) => i > 0 && /^\s*#/.test(lines[i - 1]!);
  const keys = new Set(keyLines.map(({ text }) => /^\s*([a-z_]+):/.exec(text)![1]!));
  // Every mapping key the generator writes, at any depth, appears as a key line.
  const expected = new Set<string>();
  const collect = (v: unknown): void => {
    if (kind(v) === "object") {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        expected.add(k);
        collect(child);
      }
    }
  };
  collect(written());
  for (const k of expected) {
    if (k === "exclusive" || k === "regex") continue; // inside list entries, commented by their list
    assert.ok(keys.has(k), `key ${k} appears`);
  }
  for (const { text, i } of keyLines) {
    const key = /^\s*([a-z_]+):/.exec(text)![1]!;
    if (key === "exclusive" || key === "regex") continue;
    assert.ok(commented(i), `line ${i + 1} (${key}) has a comment above it`);
  }
});
