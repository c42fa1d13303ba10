// SPDX-License-Identifier: Apache-2.0
/** Schema validation: runs ajv over the parsed file and turns its errors into `ConfigProblem`s. */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { type ConfigProblem } from "./errors.js";
import { configSchema } from "./schema.js";

const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Formats key segments as a path: `skype.endpoints.msnp`; keys that are not identifiers are
 * quoted (`permissions["@alice:example.org"]`); no segments at all is `(root)`.
 */
export function formatPath(segments: readonly string[]): string {
  if (segments.length === 0) return "(root)";
  let out = "";
  for (const seg of segments) {
    if (IDENTIFIER_RE.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Splits an ajv `instancePath` (a JSON pointer) into key segments. */
function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // strict: a schema mistake throws here (and in the tests) instead of being ignored.
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(configSchema);
  return compiled;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string (quote it if it looks like a number, date or boolean)",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "a mapping (key: value lines)",
  array: "a list",
};

/** One ajv error as a problem; the value itself is never quoted (it may be a secret). */
function toProblem(error: ErrorObject): ConfigProblem {
  const at = pointerSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { path: formatPath([...at, String(params.missingProperty)]), reason: "is required" };
    case "additionalProperties":
      return {
        path: formatPath(at),
        reason: `unknown key ${JSON.stringify(String(params.additionalProperty))}`,
      };
    case "type": {
      const type = String(params.type);
      return { path: formatPath(at), reason: `must be ${TYPE_NAMES[type] ?? type}` };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String).join(", ");
      return { path: formatPath(at), reason: `must be one of: ${allowed}` };
    }
    case "minimum":
      return { path: formatPath(at), reason: `must be at least ${String(params.limit)}` };
    case "maximum":
      return { path: formatPath(at), reason: `must be at most ${String(params.limit)}` };
    case "minLength":
      return { path: formatPath(at), reason: "must not be empty" };
    case "minProperties":
      return { path: formatPath(at), reason: "must have at least one entry" };
    default:
      return { path: formatPath(at), reason: error.message ?? `fails "${error.keyword}"` };
  }
}

/**
 * YAML writes an empty section (`secrets:` followed only by comments) or an empty value as null.
 * Read a null mapping as an empty one and a null leaf as absent, so defaults and "is required"
 * apply as if the line were not there.
 */
function dropNulls(data: unknown, schema: unknown): void {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return;
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  if (props === undefined) return;
  const record = data as Record<string, unknown>;
  for (const [key, sub] of Object.entries(props)) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const isMapping = (sub as { type?: unknown }).type === "object";
    if (record[key] === null) {
      if (isMapping) record[key] = {};
      else delete record[key];
    }
    if (isMapping) dropNulls(record[key], sub);
  }
}

/**
 * Validates `data` against the schema, filling in defaults in place (ajv `useDefaults`) and
 * dropping null values, and returns every problem found (empty when valid).
 */
export function schemaProblems(data: unknown): ConfigProblem[] {
  if (data === undefined || data === null) {
    return [{ path: "(root)", reason: "the configuration is empty" }];
  }
  dropNulls(data, configSchema);
  const validate = validator();
  if (validate(data)) return [];
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of validate.errors ?? []) {
    const problem = toProblem(error);
    const key = `${problem.path}\n${problem.reason}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}
