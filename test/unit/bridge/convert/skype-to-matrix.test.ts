import { test } from "node:test";
import assert from "node:assert/strict";
import { type MentionTarget, skypeToMatrix } from "../../../../src/bridge/convert/index.js";
import { assertSafeMatrixHtml } from "./oracles.js";

const people: Record<string, MentionTarget> = {
  "8:live:bob": { mxid: "@skype_8=3alive=3abob:hs", displayName: "Bob (Skype)" },
  "8:live:alice": { mxid: "@alice:hs", displayName: "Alice" },
};
const opts = { mentionResolver: (mri: string) => people[mri] };

function rich(body: string) {
  const out = skypeToMatrix({ type: "richtext", body }, opts);
  if (out.formatted_body !== undefined) assertSafeMatrixHtml(out.formatted_body);
  return out;
}

void test("b, i, s become strong, em, del", () => {
  const out = rich("<b>bold</b> <i>italic</i> <s>struck</s>");
  assert.deepEqual(out, {
    msgtype: "m.text",
    body: "bold italic struck",
    format: "org.matrix.custom.html",
    formatted_body: "<strong>bold</strong> <em>italic</em> <del>struck</del>",
    "m.mentions": {},
  });
});

void test("nested and overlapping formatting", () => {
  assert.equal(
    rich("<b>a <i>b <s>c</s></i></b>").formatted_body,
    "<strong>a <em>b <del>c</del></em></strong>",
  );
  // Mis-nested: the parser closes i when b closes; the rest is plain.
  assert.equal(rich("<b>a<i>b</b>c</i>").formatted_body, "<strong>a<em>b</em></strong>c");
  assert.equal(rich("<b>unclosed").formatted_body, "<strong>unclosed</strong>");
});

void test("pre: multi-line → pre>code block, single line → code", () => {
  const block = rich("look:\n<pre>if (a &lt; b)\n  go();</pre>done");
  assert.equal(block.body, "look:\nif (a < b)\n  go();\ndone");
  assert.equal(block.formatted_body, "look:<pre><code>if (a &lt; b)\n  go();</code></pre>done");
  const inline = rich("run <pre>ls -l</pre> now");
  assert.equal(inline.body, "run ls -l now");
  assert.equal(inline.formatted_body, "run <code>ls -l</code> now");
  // Formatting inside pre is shown as text.
  assert.equal(rich("<pre><b>x</b></pre>").formatted_body, "<code>x</code>");
});

void test("links: http/https/mailto kept, others become text", () => {
  const out = rich(`<a href="https://example.org/?a=1&amp;b=2">site</a> <a href="mailto:x@y.z">x@y.z</a>`);
  assert.equal(
    out.formatted_body,
    `<a href="https://example.org/?a=1&amp;b=2">site</a> <a href="mailto:x@y.z">x@y.z</a>`,
  );
  assert.equal(out.body, "site (https://example.org/?a=1&b=2) x@y.z");
  assert.equal(rich(`<a href="http://a.b">http://a.b</a>`).body, "http://a.b");
  assert.equal(rich(`<a href="https://a.b"></a>`).formatted_body, `<a href="https://a.b">https://a.b</a>`);
  for (const bad of [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:x",
    "data:text/html,<b>",
    "java\tscript:x",
    "/relative",
    "ftp://x",
    "vbscript:x",
  ]) {
    const o = rich(`<a href="${bad.replace(/</g, "&lt;")}">click</a>`);
    assert.equal(o.body, "click", bad);
    assert.equal(o.formatted_body, undefined, bad);
  }
});

void test("mentions: resolvable → pill + m.mentions, otherwise the text", () => {
  const out = rich(
    `hi <at id="8:live:bob">Bob</at> and <at id="8:live:alice">Alice S</at>, <at id="8:nobody">Nobody</at>`,
  );
  assert.equal(out.body, "hi Bob (Skype) and Alice, Nobody");
  assert.equal(
    out.formatted_body,
    `hi <a href="https://matrix.to/#/@skype_8=3alive=3abob:hs">Bob (Skype)</a> and <a href="https://matrix.to/#/@alice:hs">Alice</a>, Nobody`,
  );
  assert.deepEqual(out["m.mentions"], { user_ids: ["@skype_8=3alive=3abob:hs", "@alice:hs"] });
  // Same person twice: listed once.
  assert.deepEqual(rich(`<at id="8:live:bob">B</at><at id="8:live:bob">B</at>`)["m.mentions"], {
    user_ids: ["@skype_8=3alive=3abob:hs"],
  });
  const plain = rich(`<at id="8:nobody">Nobody</at>`);
  assert.deepEqual(plain, { msgtype: "m.text", body: "Nobody", "m.mentions": {} });
  assert.equal(rich(`<at id="8:nobody"></at>`).body, "8:nobody");
});

void test("mentions: a throwing or missing resolver leaves text", () => {
  const thrower = {
    mentionResolver: () => {
      throw new Error("db down");
    },
  };
  assert.equal(
    skypeToMatrix({ type: "richtext", body: `<at id="8:live:bob">Bob</at>` }, thrower).body,
    "Bob",
  );
  assert.equal(skypeToMatrix({ type: "richtext", body: `<at id="8:live:bob">Bob</at>` }).body, "Bob");
});

void test("emoticons: common types → emoji, others → their text", () => {
  assert.deepEqual(rich(`<ss type="smile">:)</ss> <ss type="heart">(heart)</ss>`), {
    msgtype: "m.text",
    body: "🙂 ❤️",
    "m.mentions": {},
  });
  assert.equal(rich(`<ss type="flyingpig">(flyingpig)</ss>`).body, "(flyingpig)");
  assert.equal(rich(`<ss type="flyingpig"></ss>`).body, "(flyingpig)");
});

void test("quote → blockquote with author; legacyquote dropped", () => {
  const body =
    `<quote author="8:live:bob" authorname="Bob" timestamp="1500000000" conversation="8:live:bob" messageid="1">` +
    `<legacyquote>[14:00] Bob: </legacyquote>see <b>this</b>\nline 2<legacyquote>\n\n&lt;&lt;&lt; </legacyquote></quote>my answer`;
  const out = rich(body);
  assert.equal(
    out.formatted_body,
    "<blockquote><strong>Bob</strong> wrote:<br>see <strong>this</strong><br>line 2</blockquote>my answer",
  );
  assert.equal(out.body, "> Bob wrote:\n> see this\n> line 2\nmy answer");
  // No authorname: the resolver's display name, then the raw id.
  assert.match(
    rich(`<quote author="8:live:alice">x</quote>`).formatted_body ?? "",
    /<strong>Alice<\/strong> wrote:/,
  );
  assert.match(rich(`<quote author="8:zed">x</quote>`).body, /^> 8:zed wrote:\n> x$/);
  assert.equal(rich(`<quote>x\n\ny</quote>`).body, "> x\n>\n> y");
  assert.equal(rich(`<quote><quote>inner</quote>outer</quote>`).body, "> > inner\n> outer");
});

void test("entities decoded in body, re-escaped in formatted_body; non-ASCII kept", () => {
  const out = rich("<b>Zoë &amp; 李 &lt;3</b> &quot;ok&quot; 😀");
  assert.equal(out.body, 'Zoë & 李 <3 "ok" 😀');
  assert.equal(out.formatted_body, "<strong>Zoë &amp; 李 &lt;3</strong> &quot;ok&quot; 😀");
});

void test("no formatted_body when it says nothing more than body", () => {
  assert.deepEqual(rich("just &amp; text\nline two"), {
    msgtype: "m.text",
    body: "just & text\nline two",
    "m.mentions": {},
  });
  assert.deepEqual(rich("<u>unknown</u> <font color=red>tags</font>"), {
    msgtype: "m.text",
    body: "unknown tags",
    "m.mentions": {},
  });
});

void test("newlines: <br> in HTML; CRLF normalised; edges trimmed", () => {
  const out = rich("<b>a</b>\r\nb<br>c\n");
  assert.equal(out.body, "a\nb\nc");
  assert.equal(out.formatted_body, "<strong>a</strong><br>b<br>c");
});

void test("plain Text bodies are not unescaped or parsed", () => {
  const out = skypeToMatrix({ type: "text", body: "a &amp; <b>b</b>" }, opts);
  assert.deepEqual(out, { msgtype: "m.text", body: "a &amp; <b>b</b>", "m.mentions": {} });
});

void test("a body starting with '> ' also gets formatted_body (not eaten as a reply fallback)", () => {
  const out = skypeToMatrix({ type: "text", body: "> quoted\nanswer" });
  assert.equal(out.formatted_body, "&gt; quoted<br>answer");
});

void test("emote → m.emote", () => {
  assert.deepEqual(skypeToMatrix({ type: "text", body: "waves", emote: true }), {
    msgtype: "m.emote",
    body: "waves",
    "m.mentions": {},
  });
  assert.equal(skypeToMatrix({ type: "richtext", body: "<i>dances</i>", emote: true }).msgtype, "m.emote");
});

void test("hostile markup never reaches formatted_body", () => {
  const cases = [
    `<script>alert(1)</script>hi`,
    `<img src=x onerror="alert(1)">hi`,
    `<b onclick="alert(1)" style="x">hi</b>`,
    `<style>body{display:none}</style>hi`,
    `<iframe src="https://evil"></iframe>hi`,
    `<a href="javascript:alert(1)" onmouseover="x">hi</a>`,
    `<svg><script>alert(1)</script></svg>hi`,
    `<<b>>hi<</b>>`,
    `<b>hi</b ><x y="<b>">`,
    `<a href="https://ok" onclick="x">hi</a>`,
    `<mx-reply>x</mx-reply><p>hi</p>`,
    `hi<!--<script>x</script>-->`,
    `<at id="8:nobody" onclick="x">hi</at>`,
  ];
  for (const c of cases) {
    const out = rich(c);
    assert.ok(!/script|onerror|onclick|alert|style|iframe/i.test(out.formatted_body ?? ""), c);
    assert.ok(out.body.includes("hi"), c);
  }
});
