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
export { cleanText, decodeEntities, htmlEscape, xmlEscapeAttr, xmlEscapeText } from "./entities.js";
export { emoticonText } from "./emoticons.js";
export { matrixUserFromHref, safeHref, userPillHref } from "./links.js";
export {
  parseHtml,
  textContent,
  type HtmlElement,
  type HtmlNode,
  type HtmlText,
  type ParseOptions,
} from "./html-tree.js";
export { tokenizeHtml, type HtmlToken } from "./html-tokenizer.js";
