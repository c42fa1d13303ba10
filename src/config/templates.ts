// SPDX-License-Identifier: Apache-2.0
/**
 * The grammar of the puppet templates in the config (`puppets.localpart_template`,
 * `puppets.display_name_template`): what config validation checks, and what the bridge's puppet
 * ids (bridge/ghosts/ids.ts) build on.
 */

/** Placeholder for the escaped identity in `puppets.localpart_template`. */
export const ID_PLACEHOLDER = "{id}";
/** Placeholder for the contact's name in `puppets.display_name_template`. */
export const NAME_PLACEHOLDER = "{name}";
/** Characters of a Matrix localpart (spec: user identifiers). */
const LOCALPART_RE = /^[a-z0-9._=\-/+]+$/;
/** True when `localpart` is a syntactically valid Matrix user localpart. */
export function isValidLocalpart(localpart: string): boolean {
  return LOCALPART_RE.test(localpart);
}

/**
 * Why `template` is not a usable `puppets.localpart_template`, or null when it is. Rules: exactly
 * one `{id}`, some literal text beside it (a bare `{id}` would claim every user on the
 * homeserver), and only localpart characters (`a-z 0-9 . _ = - / +`) outside the placeholder.
 */
export function localpartTemplateProblem(template: string): string | null {
  const pieces = template.split(ID_PLACEHOLDER);
  if (pieces.length !== 2) return `must contain ${ID_PLACEHOLDER} exactly once`;
  const literal = pieces.join("");
  if (literal.length === 0) {
    return `must contain text besides ${ID_PLACEHOLDER} (for example "skype_${ID_PLACEHOLDER}")`;
  }
  if (!isValidLocalpart(literal)) {
    return `may contain only a-z, 0-9, ".", "_", "=", "-", "/" and "+" besides ${ID_PLACEHOLDER}`;
  }
  return null;
}

/**
 * Why `template` is not a usable `puppets.display_name_template`, or null when it is.
 */
export function displayNameTemplateProblem(template: string): string | null {
  if (!template.includes(NAME_PLACEHOLDER)) return `must contain ${NAME_PLACEHOLDER}`;
  return null;
}

/**
 * True when `localpart` lies in the puppet namespace of `template` (so it must not be used for
 * anything else, such as the bridge bot).
 * @throws Error for a bad template.
 */
export function isInPuppetNamespace(template: string, localpart: string): boolean {
  const problem = localpartTemplateProblem(template);
  if (problem !== null) throw new Error(`puppet localpart template ${problem}`);
  const [prefix = "", suffix = ""] = template.split(ID_PLACEHOLDER);
  if (localpart.length <= prefix.length + suffix.length) return false;
  if (!localpart.startsWith(prefix) || !localpart.endsWith(suffix)) return false;
  return /^[a-z0-9._=/-]+$/.test(localpart.slice(prefix.length, localpart.length - suffix.length));
}
