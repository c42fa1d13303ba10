// SPDX-License-Identifier: Apache-2.0
/**
 * Loading the configuration: read the YAML file, validate it against the schema (filling in
 * defaults), run the semantic checks, and either return a `Config` or throw one `ConfigError`
 * listing every problem.
 */
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { ConfigError, type ConfigProblem } from "./errors.js";
import { type Config, type ValidatedFile } from "./schema.js";
import { HTTP_ENDPOINTS, semanticProblems } from "./semantic.js";
import { normalizeBaseUrl } from "./syntax.js";
import { schemaProblems } from "./validate.js";

/**
 * Reads and validates the configuration file at `path`. The token key may come from the
 * environment variable `SKYPE_BRIDGE_TOKEN_KEY` in `env`, which wins over the file.
 * @throws ConfigError listing every problem (unreadable file, YAML syntax, schema, semantics).
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (code ?? "read error");
    throw new ConfigError([{ path: "(file)", reason: `cannot read ${path}: ${why}` }]);
  }
  return parseConfig(text, env, path);
}

/**
 * Parses and validates configuration YAML text (see {@link loadConfig}).
 * @throws ConfigError
 */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env, filename?: string): Config {
  let data: unknown;
  try {
    data = yaml.load(text, filename === undefined ? {} : { filename });
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    // Only the reason and position: js-yaml's message quotes the surrounding lines, which may
    // hold the token key. No `cause` either, for the same reason.
    const where = `line ${err.mark.line + 1}, column ${err.mark.column + 1}`;
    throw new ConfigError([{ path: "(yaml)", reason: `${where}: ${err.reason}` }]);
  }
  return validateConfig(data, env);
}

/**
 * Validates already-parsed configuration data (not modified; defaults go into a copy).
 * @throws ConfigError
 */
export function validateConfig(data: unknown, env: NodeJS.ProcessEnv = process.env): Config {
  let copy: unknown;
  try {
    copy = structuredClone(data);
  } catch {
    throw new ConfigError([{ path: "(root)", reason: "must be plain data (as parsed from YAML)" }]);
  }
  const problems: ConfigProblem[] = schemaProblems(copy);
  const semantic = semanticProblems(copy, env);
  problems.push(...semantic.problems);
  if (problems.length > 0 || semantic.tokenKey === undefined) {
    throw new ConfigError(problems);
  }
  return finish(copy as ValidatedFile, semantic.tokenKey);
}

/** Builds the final `Config` from valid data: resolved key, normalised base URLs. */
function finish(file: ValidatedFile, tokenKey: string): Config {
  const endpoints = { ...file.skype.endpoints };
  for (const name of HTTP_ENDPOINTS) endpoints[name] = normalizeBaseUrl(endpoints[name]);
  return {
    ...file,
    homeserver: { ...file.homeserver, url: normalizeBaseUrl(file.homeserver.url) },
    appservice: { ...file.appservice, url: normalizeBaseUrl(file.appservice.url) },
    secrets: { token_key: tokenKey },
    skype: { ...file.skype, endpoints },
    encryption: { enabled: false },
  };
}
