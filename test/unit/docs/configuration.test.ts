// Keeps docs/configuration.md and config.sample.yaml in step: every key of the sample has a section in
// the doc (a heading that is the key's full path in backticks, e.g. "### `logging.level`"), the doc
// describes no key the sample lacks, and each key's section states a default and an example, the
// default being the schema's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { configSchema } from "../../../src/config/index.js";

const ROOT = join(__dirname, "../../..");
const SAMPLE = join(ROOT, "config.sample.yaml");
const DOC = join(ROOT, "docs/configuration.md");

interface SchemaNode {
  type?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
}

/** The schema node of a dotted path, or undefined when the schema does not know it. */
function schemaNode(path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = configSchema;
  for (const key of path.split(".")) node = node?.properties?.[key];
  return node;
}

/** A mapping whose keys are data chosen by the admin (`permissions`), not configuration keys. */
function isFreeFormMap(path: string): boolean {
  const node = schemaNode(path);
  return node !== undefined && node.properties === undefined && typeof node.additionalProperties === "object";
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The sample's keys as dotted paths, sections included. The sample shows optional keys that have no
 * default commented out (`  # token_key: …`); those count as keys too, so such lines are uncommented
 * before parsing. A comment line counts as a key only when it is `# name: …` with a lower-case name.
 */
function sampleKeys(): Map<string, unknown> {
  const text = readFileSync(SAMPLE, "utf8").replace(
    /^([ \t]*)#[ \t]?([a-z][a-z0-9_]*):([ \t].*)?$/gm,
    (_m, indent: string, key: string, rest: string | undefined) => `${indent}${key}:${rest ?? ""}`,
  );
  const data = yaml.load(text);
  assert.ok(isMapping(data), "config.sample.yaml (with its commented-out keys) is not a YAML mapping");
  const keys = new Map<string, unknown>();
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix + key;
      keys.set(path, value);
      if (isMapping(value) && !isFreeFormMap(path)) walk(value, `${path}.`);
    }
  };
  walk(data, "");
  return keys;
}

/** The doc's key sections: heading path → the text up to the next heading (code blocks skipped). */
function docSections(): Map<string, string> {
  const sections = new Map<string, string>();
  const duplicates: string[] = [];
  let current: string | undefined;
  let inFence = false;
  for (const line of readFileSync(DOC, "utf8").split("\n")) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) {
      if (current !== undefined) sections.set(current, `${sections.get(current)}\n${line}`);
      continue;
    }
    const heading = /^#{1,6}\s/.test(line);
    if (heading) {
      const m = /^#{2,4} `([A-Za-z0-9_.]+)`\s*$/.exec(line);
      current = m?.[1];
      if (current !== undefined) {
        if (sections.has(current)) duplicates.push(current);
        sections.set(current, "");
      }
      continue;
    }
    if (current !== undefined) sections.set(current, `${sections.get(current)}\n${line}`);
  }
  assert.deepEqual(duplicates, [], "docs/configuration.md describes these keys more than once");
  return sections;
}

void test("every key of config.sample.yaml is described in docs/configuration.md", () => {
  const doc = docSections();
  const missing = [...sampleKeys().keys()].filter((k) => !doc.has(k));
  assert.deepEqual(
    missing,
    [],
    `config.sample.yaml has keys docs/configuration.md does not describe: ${missing.join(", ")} ` +
      "(add a heading such as ### `section.key` for each)",
  );
});

void test("docs/configuration.md describes no key that config.sample.yaml lacks", () => {
  const sample = sampleKeys();
  const extra = [...docSections().keys()].filter((k) => !sample.has(k));
  assert.deepEqual(
    extra,
    [],
    `docs/configuration.md describes keys config.sample.yaml does not have: ${extra.join(", ")}`,
  );
});

void test("each key in docs/configuration.md states a default and an example, defaults as in the schema", () => {
  const sample = sampleKeys();
  for (const [path, text] of docSections()) {
    if (!sample.has(path)) continue; // reported by the test above
    const value = sample.get(path);
    if (isMapping(value) && !isFreeFormMap(path)) continue; // a section: its keys carry the details
    const defaultLine = /^- Default: (.*)$/m.exec(text)?.[1];
    assert.ok(defaultLine !== undefined, `${path}: no "- Default:" line`);
    assert.match(text, /^- Example:/m, `${path}: no "- Example:" line`);
    const node = schemaNode(path);
    assert.ok(node !== undefined, `${path}: not in the configuration schema`);
    const d = node.default;
    if (typeof d === "string" || typeof d === "number" || typeof d === "boolean") {
      const expected = `\`${String(d)}\``;
      assert.ok(
        defaultLine.startsWith(expected),
        `${path}: the default is ${expected} in the schema, the doc says "${defaultLine}"`,
      );
    } else if (d === undefined) {
      assert.match(
        defaultLine,
        /^none\b/,
        `${path}: has no default in the schema, the doc says "${defaultLine}"`,
      );
    }
  }
});
