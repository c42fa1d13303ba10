import { test } from "node:test";
import assert from "node:assert/strict";
import { matrixToSkype, skypeToMatrix } from "../../../../src/bridge/convert/index.js";
import { assertSafeMatrixHtml, assertSafeSkypeXml } from "./oracles.js";

const MB = 1024 * 1024;

function repeatTo(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length));
}

function bothWays(input: string): void {
  const m = skypeToMatrix(
    { type: "richtext", body: input },
    { mentionResolver: () => ({ mxid: "@g:hs", displayName: "G" }) },
  );
  assert.equal(typeof m.body, "string");
  if (m.formatted_body !== undefined) assertSafeMatrixHtml(m.formatted_body);
  const s = matrixToSkype(
    { msgtype: "m.text", body: input, format: "org.matrix.custom.html", formatted_body: input },
    { puppetResolver: () => "8:g" },
  );
  assert.equal(typeof s.body, "string");
  if (s.type === "richtext") assertSafeSkypeXml(s.body);
}

// Shapes that make naive tokenizers or renderers quadratic or recursive; each is ~1 MB and must
// simply complete (no timing assertion).
const hugeInputs: Record<string, () => string> = {
  "plain text": () => repeatTo("hello world & more ", MB),
  "many small tags": () => repeatTo("<b>x</b><i>y</i> ", MB),
  "deep nesting": () => repeatTo("<b><i>", MB),
  "unclosed quotes": () => repeatTo(`<a x='`, MB),
  "lone angle brackets": () => repeatTo("<a", MB),
  "unclosed comments": () => repeatTo("<!--", MB),
  "end tags without >": () => repeatTo("</b", MB),
  entities: () => repeatTo("&amp;&#128512;&bogus;&", MB),
  "newlines and blocks": () => repeatTo("<pre>a\nb</pre>\n<br><p>x</p>", MB),
  "nested quotes and lists": () => repeatTo("<quote><blockquote><ul><li>", MB),
  "leading breaks": () => repeatTo("<br>", MB) + "x",
  "mentions and links": () => repeatTo(`<at id="8:x">x</at><a href="https://a.b">l</a>`, MB),
  "one giant attribute": () => `<a href="https://${"a".repeat(MB)}">x</a>`,
  "unclosed script": () => "<script>" + repeatTo("<b>", MB),
  // Quadratic for a parser that searches an unbounded stack of open elements on every end tag
  // (htmlparser2's Parser does: minutes for this input).
  "unclosed tags then stray end tags": () =>
    repeatTo("<b>", MB / 2) + repeatTo("</x>", MB / 4) + repeatTo("</p>", MB / 4),
  "giant attribute never closed": () => `<a href="${repeatTo("a&amp;", MB)}`,
};

for (const [name, make] of Object.entries(hugeInputs)) {
  // The timeout only turns a hang into a failure; these take well under a second each.
  void test(`1 MB input completes: ${name}`, { timeout: 60_000 }, () => {
    bothWays(make());
  });
}

void test("10,000 nested tags, closed or not, complete", { timeout: 60_000 }, () => {
  bothWays("<b>".repeat(10_000) + "x" + "</b>".repeat(10_000));
  bothWays(`<a href="https://x.y/" title='t'><quote><ul><li>`.repeat(10_000) + "x");
});

/** Small deterministic PRNG (mulberry32) so the fuzz corpus is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "<b>",
  "</b>",
  "<i>",
  "</i>",
  "<s>",
  "</s>",
  "<pre>",
  "</pre>",
  "<code>",
  "</code>",
  "<p>",
  "</p>",
  "<br>",
  "<ul>",
  "<ol start='x'>",
  "<li>",
  "</ul>",
  "<blockquote>",
  "</blockquote>",
  "<quote authorname='A'>",
  "</quote>",
  `<a href="https://x.y/?a=1&amp;b">`,
  `<a href="javascript:alert(1)">`,
  "</a>",
  `<at id="8:x">`,
  "</at>",
  `<ss type="smile">`,
  "</ss>",
  "<script>",
  "</script>",
  "<style>",
  "<!--",
  "-->",
  "<![CDATA[",
  "]]>",
  "<mx-reply>",
  "</mx-reply>",
  "<legacyquote>",
  "</legacyquote>",
  `<img src=x onerror="alert(1)">`,
  "<",
  ">",
  "&",
  "&amp;",
  "&#0;",
  "&#x1F600;",
  '"',
  "'",
  "=",
  " ",
  "\n",
  "\r\n",
  "\t",
  "text",
  "ünï",
  "😀",
  "\u0000",
  "\ud800",
  "<table><tr><td>",
];

void test("fuzz: random tag soup never throws and never yields unsafe output", () => {
  const rand = prng(0x5eed);
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(rand() * 40);
    let s = "";
    for (let j = 0; j < n; j++) s += PIECES[Math.floor(rand() * PIECES.length)];
    bothWays(s);
  }
});

void test("non-string bodies and odd message shapes never throw", () => {
  const odd = [
    { type: "richtext", body: undefined },
    { type: "richtext", body: 42 },
    { type: "bogus", body: "<b>x</b>" },
    { type: "text", body: null, emote: "yes" },
  ];
  for (const m of odd) {
    const out = skypeToMatrix(m as unknown as Parameters<typeof skypeToMatrix>[0]);
    assert.equal(typeof out.body, "string");
    assert.equal(out.msgtype, "m.text");
  }
  assert.equal(matrixToSkype(null as unknown as Parameters<typeof matrixToSkype>[0]).body, "");
  assert.equal(skypeToMatrix(null as unknown as Parameters<typeof skypeToMatrix>[0]).body, "");
});
