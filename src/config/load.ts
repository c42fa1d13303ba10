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
    if (!(err instanceof yaml.YAMLException)) {
      // js-yaml's own types can fail with a plain TypeError on odd input (`!!binary` on a
      // non-string: "data.replace is not a function"); still the file's fault, still a ConfigError.
      // The message is not repeated: it is js-yaml's internals, not something to fix in the file.
      throw new ConfigError([
        { path: "(yaml)", reason: "the YAML parser could not read this file (an unusual tag?)" },
      ]);
    }
    // Only the reason and position: js-yaml's message quotes the surrounding lines, which may
    // hold the token key. No `cause` either, for the same reason.
    // Some errors have no position: "expected a single document in the stream" (a second `---`)
    // comes without a mark, and reading its line crashed the loader with a TypeError.
    const mark = err.mark as yaml.YAMLException["mark"] | undefined;
    const where = mark ? `line ${mark.line + 1}, column ${mark.column + 1}: ` : "";
    throw new ConfigError([{ path: "(yaml)", reason: `${where}${yamlReason(err.reason)}` }]);
  }
  return validateConfig(data, env);
}

/**
 * js-yaml reasons that quote the source: an alias, tag or directive name. A passphrase starting
 * with `*`, `!` or `%` is read as one of those, so the quoted name can be the token key.
 */
const QUOTING_REASON =
  /^(unidentified alias|undeclared tag handle|there is a previously declared suffix for|unknown document directive|tag prefix is malformed|tag name cannot contain such characters|tag name is malformed|unknown tag|unacceptable node kind for|cannot resolve a node with)\b.*$/s;

/** A js-yaml reason without any text from the file (see {@link QUOTING_REASON}). */
function yamlReason(reason: string): string {
  const m = QUOTING_REASON.exec(reason);
  if (m) return `${m[1]!.replace(/ (for|with)$/, "")} (the text is not repeated here: it may be a secret)`;
  // Unknown reasons: drop anything quoted, in case a later js-yaml quotes something new.
  return reason.replace(/"[^"]*"/g, '"…"').replace(/!<[^>]*>/g, "!<…>");
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
  };
}
