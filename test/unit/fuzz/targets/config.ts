// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzz targets of configuration loading (`parseConfig`, src/config): arbitrary YAML, valid files
 * with values replaced at random, and YAML alias bombs. Only ConfigError may come out, and its
 * message never repeats a value (the token key or any other secret can sit in any field).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import yaml from "js-yaml";
import { ConfigError, parseConfig, TOKEN_KEY_ENV } from "../../../../src/config/index.js";
import { defineTarget, type SomeTarget } from "../harness.js";

/** Marks values whose text must never appear in an error: matched case-insensitively. */
const SECRET = "S3cr3t-v4lue-9f1c";

const VALID = {
  homeserver: { url: "https://matrix.example.org/", domain: "example.org" },
  appservice: { url: "http://127.0.0.1:29330" },
  skype: {
    endpoints: {
      login: "http://127.0.0.1:8090/",
      api: "http://127.0.0.1:8090",
      skype_login: "http://127.0.0.1:8090",
      abch: "http://127.0.0.1:8090",
      activesync: "http://127.0.0.1:8090",
      msnp: "[::1]:1863",
    },
  },
  permissions: { "*": "user" },
  secrets: { token_key: "0".repeat(64) },
};

/** Calls parseConfig: a Config or a ConfigError that quotes no secret; anything else fails. */
function load(text: string, env: NodeJS.ProcessEnv = {}): void {
  try {
    const config = parseConfig(text, env);
    assert.equal(typeof config.secrets.token_key, "string");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    assert.ok(e.problems.length > 0, "a ConfigError lists at least one problem");
    for (const p of e.problems) {
      // Keys are names, not values: a path or an "unknown key" reason may repeat one.
      const reason = p.reason.replace(/^unknown key ".*"$/s, "");
      assert.ok(!reason.toLowerCase().includes(SECRET.toLowerCase()), `a value is quoted: ${e.message}`);
    }
    const fromEnv = env[TOKEN_KEY_ENV];
    if (fromEnv) assert.ok(!e.message.includes(fromEnv), "the key from the environment is quoted");
    assert.equal(e.cause, undefined, "no cause: js-yaml's errors quote the source lines");
  }
}

const PIECES = [
  "homeserver:\n", "  url: ", "  domain: ", "appservice:\n", "skype:\n", "  endpoints:\n", "    msnp: ",
  "permissions:\n", '  "*": user\n', "secrets:\n", `  token_key: ${SECRET}\n`, `  token_key: "${SECRET}\n`,
  "logging:\n", "  level: ", "x", ": ", "- ", "\n", "  ", "\t", "{", "}", "[", "]", ",", "&a ", "*a", "*b",
  "!!binary ", "!!js/function ", "!<tag:x> ", "!!set ", "!!omap ", "? ", "|\n", ">\n", "'", '"', "#",
  "---\n", "...\n", "%YAML 1.2\n", "__proto__: ", "constructor: ", "2001-12-14t21:59:43.10-05:00",
  "0x1F", ".inf", "~", "null", "true", "1e400", "\u0000", "\ud800", "\ufeff", SECRET,
]; // prettier-ignore

const anyYaml = defineTarget<{ text: string; envKey: boolean }>({
  name: "config: arbitrary YAML gives a Config or a ConfigError quoting no secret",
  arbitrary: fc.record({
    text: fc.oneof(
      fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((a) => a.join("")),
      fc.string({ maxLength: 200 }),
      fc.string({ unit: "binary", maxLength: 100 }),
    ),
    envKey: fc.boolean(),
  }),
  check({ text, envKey }) {
    load(text, envKey ? { [TOKEN_KEY_ENV]: `${SECRET}-from-the-environment` } : {});
  },
});

/** Values that may replace anything: wrong types, the secret in every shape, odd scalars. */
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", depthIdentifier: "config" },
    fc.constantFrom(
      SECRET,
      `${SECRET}${SECRET}`,
      ` ${SECRET} `,
      `http://u:${SECRET}@host/`,
      `http://host/?t=${SECRET}`,
      `${SECRET}:1863`,
      `@${SECRET}:example.org`,
      "",
      null,
      true,
      0,
      -1,
      65536,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      "user",
      "admin",
      new Date(0),
    ),
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.array(tie("value"), { maxLength: 3, depthIdentifier: "config" }),
    fc.dictionary(fc.constantFrom("url", "domain", "x", "*", "@a:b"), tie("value"), {
      maxKeys: 3,
      depthIdentifier: "config",
    }),
  ),
}));

const PATHS = [
  ["homeserver"], ["homeserver", "url"], ["homeserver", "domain"], ["appservice"], ["appservice", "url"],
  ["appservice", "port"], ["appservice", "id"], ["appservice", "bot_localpart"], ["appservice", "bind_address"],
  ["puppets", "localpart_template"], ["puppets", "display_name_template"], ["puppets", "presence"],
  ["database", "path"], ["secrets"], ["secrets", "token_key"], ["skype", "endpoints"],
  ["skype", "endpoints", "msnp"], ["skype", "endpoints", "login"], ["permissions"], ["permissions", "*"],
  ["permissions", "@alice:example.org"], ["logging", "level"], ["logging", "format"], ["encryption", "enabled"],
  ["limits"], ["unknown"],
]; // prettier-ignore

function setPath(root: Record<string, unknown>, path: readonly string[], v: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (v === undefined) delete node[last];
  else node[last] = v;
}

const mutated = defineTarget<{ edits: { path: string[]; value: unknown }[]; envKey: string | undefined }>({
  name: "config: valid files with values replaced give a ConfigError quoting no value",
  arbitrary: fc.record({
    edits: fc.array(
      fc.record({ path: fc.constantFrom(...PATHS), value: fc.option(value, { nil: undefined }) }),
      { minLength: 1, maxLength: 4 },
    ),
    envKey: fc.constantFrom(undefined, "", "short", `${SECRET}-from-the-environment`, "f".repeat(64)),
  }),
  check({ edits, envKey }) {
    const data = structuredClone(VALID) as Record<string, unknown>;
    for (const e of edits) setPath(data, e.path, e.value);
    const text = yaml.dump(data, { skipInvalid: true, noRefs: true });
    load(text, envKey === undefined ? {} : { [TOKEN_KEY_ENV]: envKey });
  },
});

/** "Billion laughs" with YAML aliases: js-yaml shares the nodes, nothing may expand them. */
const aliasBomb = defineTarget<{ levels: number; width: number; where: string }>({
  name: "config: YAML alias bombs load in bounded time",
  arbitrary: fc.record({
    levels: fc.integer({ min: 1, max: 12 }),
    width: fc.integer({ min: 2, max: 10 }),
    where: fc.constantFrom("permissions", "unknown", "homeserver", "secrets", "logging", "limits"),
  }),
  weight: 0.1,
  check({ levels, width, where }) {
    const lines = [`l0: &l0 {"${SECRET}": "x"}`];
    for (let i = 1; i <= levels; i++) {
      const refs = Array.from({ length: width }, (_, j) => `k${j}: *l${i - 1}`).join(", ");
      lines.push(`l${i}: &l${i} {${refs}}`);
    }
    const base = yaml.dump({ ...VALID, [where]: null }).replace(new RegExp(`^${where}: null$`, "m"), "");
    load(`${base}\nbomb:\n  ${lines.join("\n  ")}\n${where}: *l${levels}\n`);
  },
});

export const configTargets: SomeTarget[] = [anyYaml, mutated, aliasBomb];
