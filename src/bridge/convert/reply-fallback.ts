// SPDX-License-Identifier: Apache-2.0
/**
 * Legacy Matrix reply fallbacks (removed from the spec in v1.13 by MSC2781, still sent by older
 * clients): the body starts with `> <@sender:server> quoted text`, further `> ` lines, then a blank
 * line and the actual reply. The HTML form is an `<mx-reply>` element, dropped by the HTML parser.
 */

/** First line of a fallback: `> <@user:server> …`, or `> * <@user:server> …` for a quoted emote. */
const FALLBACK_HEAD = /^> (?:\* )?<@[^\s>]+>/;

/**
 * Removes a leading reply fallback from a plain-text body. Only a body whose first line names a
 * Matrix user in the fallback form is touched, so ordinary text starting with `> ` is kept.
 * Never throws.
 */
export function stripReplyFallback(body: string): string {
  if (typeof body !== "string" || !FALLBACK_HEAD.test(body)) return body;
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && (lines[i]?.startsWith("> ") || lines[i] === ">")) i++;
  if (lines[i] === "") i++;
  return lines.slice(i).join("\n");
}
