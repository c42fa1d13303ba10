// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzz targets of the message converters (src/bridge/convert): Skype RichText → Matrix HTML and
 * Matrix HTML → Skype RichText, on tag soup (never throw, only whitelisted output, output size
 * linear in the input) and on well-formed documents (round trips).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { escapeHtml, matrixToSkype, skypeToMatrix } from "../../../../src/bridge/convert/index.js";
import { assertSafeMatrixHtml, assertSafeSkypeXml } from "../../bridge/convert/oracles.js";
import { defineTarget, type SomeTarget } from "../harness.js";

const PUPPET = { mri: "8:live:bob", mxid: "@skype_bob:hs", name: "Bob" };
const skypeOpts = {
  mentionResolver: (mri: string) =>
    mri === PUPPET.mri ? { mxid: PUPPET.mxid, displayName: PUPPET.name } : undefined,
};
const matrixOpts = { puppetResolver: (mxid: string) => (mxid === PUPPET.mxid ? PUPPET.mri : undefined) };

/**
 * Output may grow with the input, but only linearly: escaping is at most 6× (`'` → `&apos;`),
 * list prefixes and indentation add a bounded amount per tag.
 */
function assertLinear(output: string, input: string, what: string): void {
  const limit = 32 * input.length + 256;
  assert.ok(output.length <= limit, `${what}: ${output.length} characters from ${input.length}`);
}

const PIECES = [
  "<b>", "</b>", "<i>", "</i>", "<s>", "</s>", "<pre>", "</pre>", "<code>", "</code>", "<p>", "</p>",
  "<br>", "<br/>", "<ul>", "<ol start='7'>", "<ol start='99999999999'>", "<li>", "</li>", "</ul>", "</ol>",
  "<blockquote>", "</blockquote>", "<quote authorname='A'>", "<quote author='8:live:bob'>", "</quote>",
  `<a href="https://x.y/?a=1&amp;b">`, `<a href="javascript:alert(1)">`, `<a href="mailto:a@b.c">`,
  `<a href="https://matrix.to/#/@skype_bob:hs">`, `<a href="https://matrix.to/#/@other:hs">`, "</a>",
  `<at id="8:live:bob">`, `<at id="8:nobody">`, "<at>", "</at>", `<ss type="smile">`, "</ss>",
  "<script>", "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>", "<mx-reply>", "</mx-reply>",
  "<legacyquote>", "</legacyquote>", "<e_m/>", `<img src=x alt="pic" onerror="alert(1)">`, "<h1>", "</h1>",
  "<table><tr><td>", "</td><td>", "<hr>", "<", ">", "&", "&amp;", "&lt;b&gt;", "&#0;", "&#x1F600;",
  "&nbsp;", "&bogus;", '"', "'", "=", " ", "  ", "\n", "\r\n", "\t", "text", "ünï", "😀", "\u0000",
  "\ud800", "\u2028", "> ", "> <@a:b> quoted\n\n", "* ",
]; // prettier-ignore

const soup = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((a) => a.join("")) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
);

const skypeSoup = defineTarget<{ body: string; rich: boolean; emote: boolean }>({
  name: "convert: Skype → Matrix on tag soup never throws, emits only whitelisted HTML",
  arbitrary: fc.record({ body: soup, rich: fc.boolean(), emote: fc.boolean() }),
  check({ body, rich, emote }) {
    const m = skypeToMatrix({ type: rich ? "richtext" : "text", body, emote }, skypeOpts);
    assert.equal(typeof m.body, "string");
    assert.equal(m.msgtype, emote ? "m.emote" : "m.text");
    assertLinear(m.body, body, "body");
    if (m.formatted_body !== undefined) {
      assertSafeMatrixHtml(m.formatted_body);
      assertLinear(m.formatted_body, body, "formatted_body");
    }
    for (const id of m["m.mentions"].user_ids ?? []) assert.equal(id, PUPPET.mxid);
  },
});

const matrixSoup = defineTarget<{ html: string; body: string; msgtype: string; edit: boolean }>({
  name: "convert: Matrix → Skype on tag soup never throws, emits only Skype's subset",
  arbitrary: fc.record({
    html: soup,
    body: soup,
    msgtype: fc.constantFrom("m.text", "m.emote", "m.notice"),
    edit: fc.boolean(),
  }),
  check({ html, body, msgtype, edit }) {
    const content = { msgtype, body, format: "org.matrix.custom.html", formatted_body: html };
    const s = matrixToSkype(edit ? { ...content, "m.new_content": content } : content, matrixOpts);
    assert.equal(typeof s.body, "string");
    assert.equal(s.emote, msgtype === "m.emote");
    assertLinear(s.body, html + body, "body");
    if (s.type === "richtext") assertSafeSkypeXml(s.body);
  },
});

// ——— Round trips on well-formed documents ———

/** A word: no whitespace (HTML collapses runs of it), XML-special characters and emoji included. */
const word = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{1,8}$/),
  fc.constantFrom("x<y", "a&b", "'q'", '"d"', "Zoë", "李", "😀", "&amp;", "1>0", "-", "*"),
);
const words = fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(" "));

type Inline =
  | { kind: "text"; text: string }
  | { kind: "tag"; tag: string; children: Inline[] }
  | { kind: "at" }
  | { kind: "a"; label: string };

const { inline } = fc.letrec<{ inline: Inline }>((tie) => ({
  inline: fc.oneof(
    { depthSize: "small", depthIdentifier: "inline" },
    words.map((text): Inline => ({ kind: "text", text })),
    fc
      .record({
        tag: fc.constantFrom("b", "i", "s"),
        children: fc.array(tie("inline"), { minLength: 1, maxLength: 3, depthIdentifier: "inline" }),
      })
      .map(({ tag, children }): Inline => ({ kind: "tag", tag, children })),
    fc.constant<Inline>({ kind: "at" }),
    words.map((label): Inline => ({ kind: "a", label })),
  ),
}));

const HREF = "https://example.org/a?b=1&c=2";
const SKYPE_TAG: Record<string, string> = { b: "b", i: "i", s: "s" };
const MATRIX_TAG: Record<string, string> = { b: "strong", i: "em", s: "del" };

/** Renders inline content; adjacent items are separated by one space. */
function render(nodes: Inline[], tags: Record<string, string>, flavour: "skype" | "matrix"): string {
  return nodes
    .map((n) => {
      switch (n.kind) {
        case "text":
          return escapeHtml(n.text);
        case "tag":
          return `<${tags[n.tag]}>${render(n.children, tags, flavour)}</${tags[n.tag]}>`;
        case "at":
          return flavour === "skype"
            ? `<at id="${PUPPET.mri}">${PUPPET.name}</at>`
            : `<a href="https://matrix.to/#/${PUPPET.mxid}">${PUPPET.name}</a>`;
        case "a":
          return `<a href="${escapeHtml(HREF)}">${escapeHtml(n.label)}</a>`;
      }
    })
    .join(" ");
}

const hasTags = (nodes: Inline[]): boolean => nodes.some((n) => n.kind !== "text");
const plain = (nodes: Inline[]): string => nodes.map((n) => (n.kind === "text" ? n.text : "")).join(" ");

const skypeRoundTrip = defineTarget<Inline[]>({
  name: "convert: Skype RichText → Matrix → Skype round trip",
  arbitrary: fc.array(inline, { minLength: 1, maxLength: 5 }),
  check(nodes) {
    const body = render(nodes, SKYPE_TAG, "skype");
    const m = skypeToMatrix({ type: "richtext", body }, skypeOpts);
    const s = matrixToSkype({ ...m }, matrixOpts);
    if (hasTags(nodes)) assert.deepEqual({ type: s.type, body: s.body }, { type: "richtext", body });
    else assert.deepEqual({ type: s.type, body: s.body }, { type: "text", body: plain(nodes) });
  },
});

const matrixRoundTrip = defineTarget<Inline[]>({
  name: "convert: Matrix HTML → Skype → Matrix round trip",
  arbitrary: fc.array(inline, { minLength: 1, maxLength: 5 }),
  check(nodes) {
    const html = render(nodes, MATRIX_TAG, "matrix");
    const s = matrixToSkype(
      { msgtype: "m.text", body: "fallback", format: "org.matrix.custom.html", formatted_body: html },
      matrixOpts,
    );
    const m = skypeToMatrix({ type: s.type, body: s.body }, skypeOpts);
    if (hasTags(nodes)) assert.equal(m.formatted_body, html);
    else assert.equal(m.body, plain(nodes));
  },
});

/** Plain Skype `Text` survives the trip through Matrix exactly (after cleaning control characters). */
const textRoundTrip = defineTarget<string>({
  name: "convert: Skype Text → Matrix → Skype keeps the text",
  arbitrary: fc.oneof(
    fc.string({ maxLength: 80 }),
    fc
      .array(fc.constantFrom("a", " ", "  ", "\n", "\t", "> ", "<b>", "&amp;", "😀", "x"), { maxLength: 20 })
      .map((a) => a.join("")),
  ),
  check(text) {
    const m = skypeToMatrix({ type: "text", body: text }, skypeOpts);
    const s = matrixToSkype({ ...m }, matrixOpts);
    const cleaned = text
      .replace(/\r\n?/g, "\n")
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
      .replace(/^\n+|\n+$/g, "");
    if (!cleaned.startsWith("> ")) {
      assert.deepEqual({ type: s.type, body: s.body }, { type: "text", body: cleaned });
      return;
    }
    // A body starting with "> " also gets an HTML rendering (so no client takes it for a reply
    // fallback); coming back through HTML, runs of blanks collapse as HTML does. Known, accepted.
    const collapse = (t: string) =>
      t
        .replace(/[ \t]+/g, " ")
        .replace(/ ?\n ?/g, "\n")
        .trim();
    assert.equal(s.type, "text");
    assert.equal(collapse(s.body), collapse(cleaned));
  },
});

/** Deep nesting in either direction: bounded work, and text is never lost. */
const deep = defineTarget<{ depth: number; tag: string; closed: boolean }>({
  name: "convert: 10,000-deep nesting keeps its text, both ways",
  arbitrary: fc.record({
    depth: fc.integer({ min: 1, max: 10_000 }),
    tag: fc.constantFrom("b", "i", "quote", "blockquote", "ul><li", "a href='https://x.y'", "span", "pre"),
    closed: fc.boolean(),
  }),
  weight: 0.05,
  maxMsPerInput: 2000,
  check({ depth, tag, closed }) {
    const name = tag.split(/[ >]/)[0]!;
    const input = `<${tag}>`.repeat(depth) + "needle" + (closed ? `</${name}>`.repeat(depth) : "");
    const m = skypeToMatrix({ type: "richtext", body: input }, skypeOpts);
    assert.ok(m.body.includes("needle"), "Skype → Matrix keeps the text");
    if (m.formatted_body !== undefined) assertSafeMatrixHtml(m.formatted_body);
    const s = matrixToSkype({
      msgtype: "m.text",
      body: "",
      format: "org.matrix.custom.html",
      formatted_body: input,
    });
    assert.ok(s.body.includes("needle"), "Matrix → Skype keeps the text");
    assertLinear(s.body, input, "Matrix → Skype");
  },
});

export const convertTargets: SomeTarget[] = [
  skypeSoup,
  matrixSoup,
  skypeRoundTrip,
  matrixRoundTrip,
  textRoundTrip,
  deep,
];
