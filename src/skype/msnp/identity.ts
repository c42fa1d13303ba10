// SPDX-License-Identifier: Apache-2.0
/**
 * MRIs (`<netId>:<name>[;epid={…}][;path=…]`, REFERENCE §2) and the conversation key rules of
 * PROFILE §5: 1:1 conversations are keyed by the other party's identity exactly as on the wire,
 * threads by their id.
 */

/** The MRI without `;epid=`, `;path=` or other parameters. */
export function bareMri(mri: string): string {
  return (mri.split(";")[0] ?? "").trim();
}

/** The `epid` parameter of an MRI, without braces, lower-cased; undefined when absent. */
export function epidOf(mri: string): string | undefined {
  for (const part of mri.split(";").slice(1)) {
    const [k, v] = part.split("=", 2);
    if (k?.trim().toLowerCase() === "epid" && v) return normalizeEpid(v);
  }
  return undefined;
}

/** An endpoint id without braces, lower-cased. */
export function normalizeEpid(epid: string): string {
  return epid
    .trim()
    .replace(/^\{|\}$/g, "")
    .toLowerCase();
}

/** True for a group thread id (`19:…@thread.skype`). */
export function isThreadId(id: string): boolean {
  return /^19:.+@(?:p2p\.)?thread\.skype$/i.test(bareMri(id));
}

/** Compares two MRIs: `1:` (e-mail) identities ignore case, others are exact. */
export function sameMri(a: string, b: string): boolean {
  const x = bareMri(a);
  const y = bareMri(b);
  if (x === y) return true;
  return x.startsWith("1:") && y.startsWith("1:") && x.toLowerCase() === y.toLowerCase();
}

/** The user's own identities: `1:<email>` and `8:<skypename>`. */
export class SelfIdentity {
  readonly msa: string;
  readonly skype: string;

  constructor(email: string, skypename: string) {
    this.msa = `1:${email}`;
    this.skype = `8:${skypename}`;
  }

  /** True when `mri` is one of the user's identities. */
  isMe(mri: string): boolean {
    return sameMri(mri, this.msa) || sameMri(mri, this.skype);
  }

  /** The conversation a message belongs to, per PROFILE §5. */
  conversationOf(from: string, to: string): string {
    const t = bareMri(to);
    if (isThreadId(t)) return t;
    return this.isMe(from) ? t : bareMri(from);
  }
}

/** Compares two Message-IDs numerically (they may exceed 2^53); one implementation for the project. */
export { compareMessageIds as compareIds } from "../../util/message-ids.js";

/** True for a decimal Message-ID. */
export function isMessageId(s: string | undefined): s is string {
  return s !== undefined && /^\d{1,30}$/.test(s);
}
