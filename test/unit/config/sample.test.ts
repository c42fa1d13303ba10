import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TOKEN_KEY_ENV, configSchema, loadConfig } from "../../../src/config/index.js";

const SAMPLE = join(__dirname, "../../../config.sample.yaml");
const ENV = { [TOKEN_KEY_ENV]: "a sample passphrase for the tests" };

interface SchemaNode {
  type?: string;
  default?: unknown;
  required?: readonly string[];
  properties?: Record<string, SchemaNode>;
}

/** Every [path, node] of the schema's named properties, depth first. */
function walk(node: SchemaNode, path: string[] = []): [string[], SchemaNode][] {
  const out: [string[], SchemaNode][] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push([[...path, key], child], ...walk(child, [...path, key]));
  }
  return out;
}

void test("the sample validates and points at the local reference setup", () => {
  const config = loadConfig(SAMPLE, ENV);
  assert.equal(config.homeserver.url, "http://127.0.0.1:8008");
  assert.equal(config.homeserver.domain, "localhost");
  for (const name of ["login", "api", "skype_login", "abch", "activesync"] as const) {
    assert.equal(config.skype.endpoints[name], "http://127.0.0.1:8090");
  }
  assert.equal(config.skype.endpoints.msnp, "127.0.0.1:1863");
  assert.equal(config.skype.msnp_tls, false);
  assert.equal(config.secrets.token_key, ENV[TOKEN_KEY_ENV]);
});

void test("the sample documents every key and states every default", () => {
  const text = readFileSync(SAMPLE, "utf8");
  // Join comment lines that wrap, so "default\n  # text" reads "default text".
  const flat = text.replace(/\n\s*#\s*/g, " ");
  for (const [path, node] of walk(configSchema)) {
    const key = path[path.length - 1]!;
    assert.match(text, new RegExp(`^\\s*#?\\s*"?${key}"?:`, "m"), `key ${path.join(".")} missing`);
    if (node.default !== undefined && node.type !== "object") {
      const d = `${node.default as string | number | boolean}`;
      assert.ok(
        flat.includes(`default ${d}`) || flat.includes(`default "${d}"`),
        `default of ${path.join(".")} (${d}) not stated`,
      );
    }
  }
});

void test("a loaded Config has exactly the schema's keys", () => {
  const config = loadConfig(SAMPLE, ENV) as unknown as Record<string, unknown>;
  const check = (value: Record<string, unknown>, node: SchemaNode, path: string): void => {
    const props = node.properties ?? {};
    for (const key of Object.keys(value)) assert.ok(key in props, `unexpected ${path}${key}`);
    for (const [key, child] of Object.entries(props)) {
      const present = key in value;
      if (child.default !== undefined || node.required?.includes(key)) {
        assert.ok(present, `missing ${path}${key}`);
      }
      if (present && child.properties) {
        check(value[key] as Record<string, unknown>, child, `${path}${key}.`);
      }
    }
  };
  check(config, configSchema, "");
});
