// SPDX-License-Identifier: Apache-2.0
/** Removal of characters that neither Matrix JSON consumers nor XML 1.0 (Skype RichText) accept. */

// C0 controls except TAB and LF, DEL, and lone UTF-16 surrogates: invalid in XML 1.0 and useless in chat.
const BAD_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Normalises line endings to `\n`, drops control characters (keeping TAB and LF) and replaces lone
 * surrogates with U+FFFD, so the text is valid both in Matrix events and in XML.
 */
export function cleanText(text: string): string {
  const unified = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  return unified.replace(BAD_CHARS, (c) => (c.length === 1 && c.charCodeAt(0) >= 0xd800 ? "\ufffd" : ""));
}
