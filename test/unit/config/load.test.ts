import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  TOKEN_KEY_ENV,
  loadConfig,
  parseConfig,
  validateConfig,
} from "../../../src/config/index.js";

const FIXTURES = join(__dirname, "../../fixtures/config");
const HEX_KEY = "0123456789abcdef".repeat(4);
const ENV = { [TOKEN_KEY_ENV]: HEX_KEY };

/** Runs `fn`, asserts it throws a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a ConfigError");
}

/** A valid configuration object, to be altered by each test. */
function base(): Record<string, unknown> {
  return {
    homeserver: { url: "http://127.0.0.1:8008", domain: "localhost" },
    appservice: { url: "http://127.0.0.1:29330" },
    skype: {
      endpoints: {
        login: "http://127.0.0.1:8090",
        api: "http://127.0.0.1:8090",
        skype_login: "http://127.0.0.1:8090",
        abch: "http://127.0.0.1:8090",
        activesync: "http://127.0.0.1:8090",
        msnp: "127.0.0.1:1863",
      },
    },
    permissions: { localhost: "user" },
  };
}

void test("a minimal file gets every default and normalised URLs", () => {
  const config = loadConfig(join(FIXTURES, "minimal.yaml"), ENV);
  assert.deepEqual(config.appservice, {
    bind_address: "127.0.0.1",
    port: 29330,
    id: "skype",
    bot_localpart: "skypebot",
    bot_display_name: "Skype bridge bot",
    url: "http://127.0.0.1:29330",
  });
  assert.deepEqual(config.puppets, {
    localpart_template: "skype_{id}",
    display_name_template: "{name} (Skype)",
    presence: true,
  });
  assert.deepEqual(config.database, { path: "skype-bridge.db", cache_mib: 4 });
  assert.deepEqual(config.logging, { level: "info", format: "text", modules: {} });
  assert.deepEqual(config.limits, { session_start_concurrency: 16, reconnect_concurrency: 32 });
  assert.deepEqual(config.history, { conversations: 20, messages: 50 });
  assert.deepEqual(config.double_puppet, { secrets: {} });
  assert.deepEqual(config.encryption, { enabled: false, default: false, require: false });
  assert.equal(config.skype.msnp_tls, true);
  assert.equal(config.skype.contact_sync_interval_seconds, undefined);
  assert.equal(config.skype.endpoints.msnp, "[::1]:1863");
  assert.equal(config.homeserver.url, "https://matrix.example.org");
  assert.equal(config.skype.endpoints.login, "http://127.0.0.1:8090");
  assert.equal(config.secrets.token_key, HEX_KEY);
});

void test("a file with three mistakes reports all three with their paths", () => {
  const err = configError(() => loadConfig(join(FIXTURES, "three-mistakes.yaml"), ENV));
  assert.deepEqual(err.problems.map((p) => p.path).sort(), [
    "homeserver.url",
    "logging.level",
    "skype.endpoints.msnp",
  ]);
  const lines = err.message.split("\n");
  assert.equal(lines.length, 3);
  assert.ok(lines.includes("logging.level: must be one of: debug, info, warn, error"));
  assert.ok(lines.some((l) => l.startsWith("homeserver.url: must be an http")));
  assert.ok(lines.some((l) => l.startsWith("skype.endpoints.msnp: must be host:port")));
});

void test("schema and semantic problems are reported together", () => {
  const data = base();
  (data.homeserver as Record<string, unknown>).domain = "not a domain";
  (data.appservice as Record<string, unknown>).port = "29330";
  delete (data.skype as { endpoints: Record<string, unknown> }).endpoints.abch;
  data.puppets = { localpart_template: "skype_", display_name_template: "{nom}" };
  data.database = { cache_mib: 0 };
  const err = configError(() => validateConfig(data, ENV));
  const byPath = new Map(err.problems.map((p) => [p.path, p.reason]));
  assert.equal(byPath.get("appservice.port"), "must be a whole number");
  assert.equal(byPath.get("skype.endpoints.abch"), "is required");
  assert.match(byPath.get("homeserver.domain") ?? "", /server name/);
  assert.match(byPath.get("puppets.localpart_template") ?? "", /\{id\}/);
  assert.match(byPath.get("puppets.display_name_template") ?? "", /\{name\}/);
  assert.equal(byPath.get("database.cache_mib"), "must be at least 1");
  assert.equal(err.problems.length, 6);
});

void test("unknown keys are reported at every level", () => {
  const err = configError(() => loadConfig(join(FIXTURES, "unknown-keys.yaml"), ENV));
  assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.reason}`).sort(), [
    '(root): unknown key "bridge"',
    'skype.endpoints: unknown key "msnp_backup"',
  ]);
  assert.ok(err.message.includes('skype.endpoints: unknown key "msnp_backup"'));
  assert.ok(err.message.includes('(root): unknown key "bridge"'));
});

void test("a YAML syntax error gives line and column and never quotes the file", (t) => {
  // Written at run time: a broken YAML file in the tree would fail `prettier -c .`.
  const dir = mkdtempSync(join(tmpdir(), "config-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "broken.yaml");
  writeFileSync(
    file,
    "homeserver:\n  url: http://127.0.0.1:8008\n  domain: localhost\nsecrets:\n" +
      "  token_key: this-is-a-secret-passphrase\n    oops: [1, 2\n",
  );
  const err = configError(() => loadConfig(file, ENV));
  assert.equal(err.problems.length, 1);
  assert.equal(err.problems[0]!.path, "(yaml)");
  assert.match(err.message, /^\(yaml\): line 6, column \d+: /);
  assert.ok(!err.message.includes("this-is-a-secret-passphrase"));
  assert.equal(err.cause, undefined);
});

void test("duplicate keys are a YAML error", () => {
  const err = configError(() => parseConfig("homeserver: {}\nhomeserver: {}\n", ENV));
  assert.match(err.message, /^\(yaml\): line 2, column 1: duplicated mapping key$/);
});

void test("a missing file and an empty file are reported", () => {
  const missing = configError(() => loadConfig(join(FIXTURES, "does-not-exist.yaml"), ENV));
  assert.deepEqual(
    missing.problems.map((p) => p.path),
    ["(file)"],
  );
  assert.match(missing.message, /no such file/);
  const empty = configError(() => parseConfig("# nothing\n", ENV));
  assert.equal(empty.message, "(root): the configuration is empty");
  const list = configError(() => parseConfig("- a\n- b\n", ENV));
  assert.equal(list.message, "(root): must be a mapping (key: value lines)");
});

void test("empty sections are read as empty mappings", () => {
  const err = configError(() => parseConfig("homeserver:\nappservice:\nskype:\npermissions:\n", ENV));
  assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.reason}`).sort(), [
    "appservice.url: is required",
    "homeserver.domain: is required",
    "homeserver.url: is required",
    "permissions: must have at least one entry",
    "skype.endpoints: is required",
  ]);
});

void test("the token key comes from the environment, which wins over the file", () => {
  const data = base();
  data.secrets = { token_key: "file-passphrase-of-20" };
  assert.equal(validateConfig(data, {}).secrets.token_key, "file-passphrase-of-20");
  assert.equal(validateConfig(data, ENV).secrets.token_key, HEX_KEY);
  // An unusable key in the file does not matter while the environment provides one.
  data.secrets = { token_key: "short" };
  assert.equal(validateConfig(data, ENV).secrets.token_key, HEX_KEY);
  // An empty environment variable counts as unset.
  assert.throws(() => validateConfig(data, { [TOKEN_KEY_ENV]: "" }), ConfigError);
});

void test("a missing token key names both ways to provide it", () => {
  const err = configError(() => validateConfig(base(), {}));
  assert.equal(err.problems.length, 1);
  assert.equal(err.problems[0]!.path, "secrets.token_key");
  assert.match(err.message, /secrets\.token_key/);
  assert.match(err.message, new RegExp(TOKEN_KEY_ENV));
});

void test("a bad token key is refused without being printed", () => {
  const secret = "tooshort-secret";
  const fromEnv = configError(() => validateConfig(base(), { [TOKEN_KEY_ENV]: secret }));
  assert.deepEqual(
    fromEnv.problems.map((p) => p.path),
    [`${TOKEN_KEY_ENV} (environment)`],
  );
  assert.ok(!fromEnv.message.includes(secret));
  const data = base();
  data.secrets = { token_key: secret };
  const fromFile = configError(() => validateConfig(data, {}));
  assert.deepEqual(
    fromFile.problems.map((p) => p.path),
    ["secrets.token_key"],
  );
  assert.ok(!fromFile.message.includes(secret));
  assert.ok(!JSON.stringify(fromFile.problems).includes(secret));
  // An unquoted all-digit key is a number in YAML: the hint says to quote it.
  data.secrets = { token_key: 1234567890123456 };
  const numeric = configError(() => validateConfig(data, {}));
  assert.match(numeric.message, /^secrets\.token_key: must be a string \(quote it/);
});

void test("encryption: enabled is accepted; default and require need it", () => {
  const config = loadConfig(join(FIXTURES, "encryption-enabled.yaml"), ENV);
  assert.deepEqual(config.encryption, { enabled: true, default: false, require: false });
  const data = base();
  data.encryption = { enabled: false, default: true, require: true };
  const err = configError(() => validateConfig(data, ENV));
  assert.deepEqual(
    err.problems.map((p) => p.path),
    ["encryption.default", "encryption.require"],
  );
  assert.match(err.problems[0]!.reason, /needs encryption\.enabled: true/);
});

void test("the bot may not live inside the puppet namespace", () => {
  const data = base();
  data.appservice = { url: "http://127.0.0.1:29330", bot_localpart: "skype_bot" };
  const err = configError(() => validateConfig(data, ENV));
  assert.deepEqual(
    err.problems.map((p) => p.path),
    ["appservice.bot_localpart"],
  );
  data.appservice = { url: "http://127.0.0.1:29330", bot_localpart: "Skype Bot" };
  assert.match(configError(() => validateConfig(data, ENV)).message, /^appservice\.bot_localpart: may/);
});

void test("endpoint and address checks", () => {
  const data = base();
  const endpoints = (data.skype as { endpoints: Record<string, unknown> }).endpoints;
  endpoints.login = "ftp://127.0.0.1";
  endpoints.api = "http://user:pw@127.0.0.1";
  endpoints.abch = "http://127.0.0.1/?x=1";
  endpoints.msnp = "127.0.0.1:70000";
  (data.appservice as Record<string, unknown>).bind_address = "not an address!";
  const err = configError(() => validateConfig(data, ENV));
  assert.deepEqual(err.problems.map((p) => p.path).sort(), [
    "appservice.bind_address",
    "skype.endpoints.abch",
    "skype.endpoints.api",
    "skype.endpoints.login",
    "skype.endpoints.msnp",
  ]);
  assert.ok(!err.message.includes("pw@"));
});

void test("permission keys and values are checked", () => {
  const data = base();
  data.permissions = { "*": "user", "@bad": "admin", "@ok:example.org": "owner", "not a domain": "user" };
  const err = configError(() => validateConfig(data, ENV));
  assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.reason.slice(0, 20)}`).sort(), [
    'permissions["@bad"]: the key must be "*",',
    'permissions["@ok:example.org"]: must be one of: user',
    'permissions["not a domain"]: the key must be "*",',
  ]);
});

void test("validateConfig leaves its input untouched", () => {
  const data = base();
  const before = JSON.stringify(data);
  validateConfig(data, ENV);
  assert.equal(JSON.stringify(data), before);
});

void test("history bounds and double-puppet secrets are checked; a secret is never printed", () => {
  const data = base();
  data.history = { conversations: -1, messages: 0 };
  data.double_puppet = { secrets: { localhost: "a-plain-token-without-prefix" } };
  const err = configError(() => validateConfig(data, ENV));
  assert.deepEqual(err.problems.map((p) => p.path).sort(), [
    "double_puppet.secrets.localhost",
    "history.conversations",
    "history.messages",
  ]);
  assert.ok(!err.message.includes("a-plain-token-without-prefix"));
  assert.ok(!JSON.stringify(err.problems).includes("a-plain-token-without-prefix"));
  data.history = { conversations: 0 };
  data.double_puppet = { secrets: { localhost: "as_token:abc123" } };
  const ok = validateConfig(data, ENV);
  assert.deepEqual(ok.history, { conversations: 0, messages: 50 });
  assert.deepEqual(ok.double_puppet.secrets, { localhost: "as_token:abc123" });
});
