// SPDX-License-Identifier: Apache-2.0
/**
 * Pure message-format converters between Matrix and Skype (no I/O). Entry points:
 * {@link skypeToMatrix} and {@link matrixToSkype}; the rest are helpers they share.
 */
export {
  skypeToMatrix,
  type MatrixTextContent,
  type MentionTarget,
  type SkypeMessageInput,
  type SkypeToMatrixOptions,
} from "./skype-to-matrix.js";
export {
  matrixToSkype,
  type MatrixMessageContent,
  type MatrixToSkypeOptions,
  type SkypeMessageOutput,
} from "./matrix-to-skype.js";
export { stripReplyFallback } from "./reply-fallback.js";
export { cleanText } from "./clean-text.js";
/**
 * `escapeHtml` is the one escape for HTML/XML text and quoted attribute values (`& < > " '`);
 * `htmlEscape` is the same function under its older name, kept for existing callers.
 */
export { decodeEntities, escapeHtml, escapeHtml as htmlEscape } from "./escape.js";
export { emoticonText } from "./emoticons.js";
export { matrixUserFromHref, safeHref, userPillHref } from "./links.js";
export {
  parseHtml,
  textContent,
  type HtmlElement,
  type HtmlNode,
  type HtmlText,
  type ParseOptions,
} from "./html-parser.js";
