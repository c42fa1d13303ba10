// SPDX-License-Identifier: Apache-2.0
/**
 * The bot's replies name commands between backticks in their plain text; clients that render HTML
 * would show those backticks literally, so every reply that names a command also carries an HTML
 * version with `<code>` (and line breaks kept).
 */
import { escapeHtml } from "../convert/index.js";

/** The HTML version of a plain reply: escaped, `x` as <code>x</code>, newlines as <br>. */
export function codeHtml(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/\n/g, "<br>");
}

/**
 * The content of a bot message: `html` when given, else an HTML version when the text has
 * backticks, else plain text only.
 */
export function noticeContent(
  text: string,
  html?: string,
  msgtype: "m.notice" | "m.text" = "m.notice",
): Record<string, unknown> {
  const content: Record<string, unknown> = { msgtype, body: text };
  const formatted = html ?? (/`[^`\n]+`/.test(text) ? codeHtml(text) : undefined);
  if (formatted !== undefined) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = formatted;
  }
  return content;
}
