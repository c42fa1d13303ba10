// Independent checks of converter output (regex-based, not using the converters' own parser).
import assert from "node:assert/strict";

const MATRIX_TAGS = new Set(["strong", "em", "del", "code", "pre", "a", "blockquote", "br"]);
const SKYPE_TAGS = new Set(["b", "i", "s", "pre", "a", "at", "quote"]);

/** Every `<`/`>` in `markup` belongs to a tag we allow; attributes are only the permitted ones. */
function assertWhitelisted(
  markup: string,
  tags: Set<string>,
  attrOk: (tag: string, attrs: string) => boolean,
): void {
  const stripped = markup.replace(
    /<(\/?)([a-z]+)((?: [a-z]+="[^"<>]*")*)>/g,
    (_m, _slash, name: string, attrs: string) => {
      assert.ok(tags.has(name), `unexpected tag <${name}> in ${markup.slice(0, 200)}`);
      assert.ok(attrOk(name, attrs), `unexpected attributes ${attrs} on <${name}>`);
      return "";
    },
  );
  assert.ok(!/[<>]/.test(stripped), `unescaped markup left in ${stripped.slice(0, 200)}`);
  assert.ok(!/&(?!(?:amp|lt|gt|quot|#39|apos);)/.test(stripped), "unescaped & in text");
}

/** Matrix formatted_body is a whitelist rebuild: safe tags, only http(s)/mailto/matrix.to hrefs. */
export function assertSafeMatrixHtml(html: string): void {
  assertWhitelisted(html, MATRIX_TAGS, (tag, attrs) =>
    tag === "a" ? attrs === "" || /^ href="(?:https?:\/\/|mailto:)[^"]*"$/i.test(attrs) : attrs === "",
  );
}

/** Skype RichText uses only the subset of PROFILE.md §3, with only href/id attributes. */
export function assertSafeSkypeXml(xml: string): void {
  assertWhitelisted(xml, SKYPE_TAGS, (tag, attrs) => {
    if (tag === "a") return attrs === "" || /^ href="(?:https?:\/\/|mailto:)[^"]*"$/i.test(attrs);
    if (tag === "at") return attrs === "" || /^ id="[^"]*"$/.test(attrs);
    return attrs === "";
  });
}
