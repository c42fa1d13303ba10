// SPDX-License-Identifier: Apache-2.0
/**
 * Character references in both directions, from the `entities` library: the one escape helper the
 * converters use for Matrix HTML (text and attribute values) and Skype RichText XML (text and
 * attribute values), and decoding of all 2,231 HTML named references plus numeric ones.
 */
import { decodeHTMLStrict, escapeUTF8 } from "entities";

/**
 * Escapes `& < > " '` as `&amp; &lt; &gt; &quot; &apos;` and leaves every other character as it
 * is (`escapeUTF8`). The result is safe as HTML or XML text and inside a quoted attribute value,
 * so it serves Matrix `formatted_body` and Skype RichText alike; `&apos;` is one of XML's five
 * predefined entities and an HTML5 named reference. Not `escapeText`/`escapeAttribute`: those turn
 * U+00A0 into `&nbsp;`, which XML does not define, and each leaves out characters the other needs.
 */
export function escapeHtml(text: string): string {
  return escapeUTF8(text);
}

/**
 * Decodes character references in a standalone string: every HTML named reference and decimal or
 * hex numeric references. Strict: a reference needs its closing `;` (`&amp x` stays as written),
 * unknown names are kept, invalid numbers (0, surrogates, beyond U+10FFFF) become U+FFFD. Decoding
 * happens once (`&amp;lt;` → `&lt;`). Never throws.
 */
export function decodeEntities(text: string): string {
  return text.includes("&") ? decodeHTMLStrict(text) : text;
}
