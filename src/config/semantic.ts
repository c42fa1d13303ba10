// SPDX-License-Identifier: Apache-2.0
/**
 * Checks the schema cannot express: URL and address syntax, templates, the bot's localpart, the
 * permission keys, the encryption switch and the token key (file or environment). They run on
 * whatever part of the file has the right type, so a file with schema errors still gets its
 * semantic problems reported in the same pass.
 */
import {
  displayNameTemplateProblem,
  isInPuppetNamespace,
  isValidLocalpart,
  localpartTemplateProblem,
} from "./templates.js";
import { type ConfigProblem } from "./errors.js";
import { TOKEN_KEY_ENV } from "./schema.js";
import {
  bindAddressProblem,
  hostPortProblem,
  httpUrlProblem,
  isMxid,
  serverNameProblem,
  tokenKeyProblem,
} from "./syntax.js";
import { formatPath } from "./validate.js";

/** The HTTP endpoints of PROFILE.md §1 (`msnp` is `host:port` and checked apart). */
export const HTTP_ENDPOINTS = ["login", "api", "skype_login", "abch", "activesync", "ams"] as const;

const APPSERVICE_ID_RE = /^[A-Za-z0-9._~-]+$/;

/** The value at `path` inside nested mappings, or undefined. */
function at(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const key of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Collects problems; each check runs only when the value is a string (else the schema reported it). */
class Checker {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly data: unknown) {}

  string(path: readonly string[], check: (value: string) => string | null): void {
    const value = at(this.data, path);
    if (typeof value !== "string") return;
    const reason = check(value);
    if (reason !== null) this.problems.push({ path: formatPath(path), reason });
  }

  value(path: readonly string[]): unknown {
    return at(this.data, path);
  }

  add(path: string, reason: string): void {
    this.problems.push({ path, reason });
  }
}

function checkMatrixSide(c: Checker): void {
  c.string(["homeserver", "url"], httpUrlProblem);
  c.string(["homeserver", "domain"], serverNameProblem);
  c.string(["appservice", "bind_address"], bindAddressProblem);
  c.string(["appservice", "url"], httpUrlProblem);
  c.string(["appservice", "id"], (v) =>
    APPSERVICE_ID_RE.test(v) ? null : 'may contain only letters, digits, ".", "_", "~" and "-"',
  );
  c.string(["puppets", "localpart_template"], localpartTemplateProblem);
  c.string(["puppets", "display_name_template"], displayNameTemplateProblem);
  const template = c.value(["puppets", "localpart_template"]);
  c.string(["appservice", "bot_localpart"], (v) => {
    if (!isValidLocalpart(v)) return 'may contain only a-z, 0-9, ".", "_", "=", "-", "/" and "+"';
    if (typeof template === "string" && localpartTemplateProblem(template) === null) {
      if (isInPuppetNamespace(template, v)) {
        return "lies inside the puppet namespace of puppets.localpart_template; choose another";
      }
    }
    return null;
  });
}

function checkSkypeSide(c: Checker): void {
  for (const name of HTTP_ENDPOINTS) c.string(["skype", "endpoints", name], httpUrlProblem);
  c.string(["skype", "endpoints", "msnp"], hostPortProblem);
}

function checkPermissions(c: Checker): void {
  const permissions = c.value(["permissions"]);
  if (typeof permissions !== "object" || permissions === null || Array.isArray(permissions)) return;
  for (const key of Object.keys(permissions)) {
    if (key === "*" || isMxid(key) || serverNameProblem(key) === null) continue;
    c.add(
      formatPath(["permissions", key]),
      'the key must be "*", a server name like example.org, or a Matrix id like @alice:example.org',
    );
  }
}

function checkEncryption(c: Checker): void {
  if (c.value(["encryption", "enabled"]) === true) return;
  for (const key of ["default", "require"] as const) {
    if (c.value(["encryption", key]) === true)
      c.add(
        `encryption.${key}`,
        "needs encryption.enabled: true (the bridge cannot read or write encrypted rooms without it)",
      );
  }
}

/** Finds the token key (the environment wins over the file) and checks it. */
function resolveTokenKey(c: Checker, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env[TOKEN_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    const reason = tokenKeyProblem(fromEnv);
    if (reason === null) return fromEnv;
    c.add(`${TOKEN_KEY_ENV} (environment)`, reason);
    return undefined;
  }
  const fromFile = c.value(["secrets", "token_key"]);
  if (fromFile === undefined) {
    c.add(
      "secrets.token_key",
      `no token-encryption key: set secrets.token_key in the file or the environment variable ${TOKEN_KEY_ENV}`,
    );
    return undefined;
  }
  if (typeof fromFile !== "string") return undefined; // the schema reported it
  const reason = tokenKeyProblem(fromFile);
  if (reason === null) return fromFile;
  c.add("secrets.token_key", reason);
  return undefined;
}

/** Result of the semantic pass: its problems and, when valid, the resolved token key. */
export interface SemanticResult {
  problems: ConfigProblem[];
  tokenKey: string | undefined;
}

/** Runs every semantic check on schema-validated (possibly partly invalid) data. */
export function semanticProblems(data: unknown, env: NodeJS.ProcessEnv): SemanticResult {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { problems: [], tokenKey: undefined }; // the schema reported the root
  }
  const c = new Checker(data);
  checkMatrixSide(c);
  checkSkypeSide(c);
  checkPermissions(c);
  checkEncryption(c);
  const tokenKey = resolveTokenKey(c, env);
  return { problems: c.problems, tokenKey };
}
