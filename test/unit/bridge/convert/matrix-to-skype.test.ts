import { test } from "node:test";
import assert from "node:assert/strict";
import { type MatrixMessageContent, matrixToSkype } from "../../../../src/bridge/convert/index.js";
import { assertSafeSkypeXml } from "./oracles.js";

const puppets: Record<string, string> = { "@skype_bob:hs": "8:live:bob", "@skype_dave:hs": "8:dave.lister" };
const opts = { puppetResolver: (mxid: string) => puppets[mxid] };

function html(formatted_body: string, extra: MatrixMessageContent = {}) {
  const out = matrixToSkype(
    { msgtype: "m.text", body: "(fallback)", format: "org.matrix.custom.html", formatted_body, ...extra },
    opts,
  );
  if (out.type === "richtext") assertSafeSkypeXml(out.body);
  return out;
}

void test("strong/b, em/i, del/s/strike map to b, i, s", () => {
  assert.deepEqual(
    html("<strong>a</strong> <b>b</b> <em>c</em> <i>d</i> <del>e</del> <s>f</s> <strike>g</strike>"),
    {
      type: "richtext",
      body: "<b>a</b> <b>b</b> <i>c</i> <i>d</i> <s>e</s> <s>f</s> <s>g</s>",
      emote: false,
    },
  );
  assert.equal(html("<strong>a <em>b <del>c</del></em></strong>").body, "<b>a <i>b <s>c</s></i></b>");
});

void test("code and pre → pre; code blocks keep their whitespace", () => {
  assert.equal(html("run <code>ls  -l</code> now").body, "run <pre>ls  -l</pre> now");
  assert.equal(
    html(`<p>see:</p>\n<pre><code class="language-js">if (a &lt; b) {\n  go();\n}\n</code></pre>\n<p>ok</p>`)
      .body,
    "see:\n\n<pre>if (a &lt; b) {\n  go();\n}</pre>\n\nok",
  );
  assert.equal(html("<pre><code><b>x</b></code></pre>").body, "<pre>x</pre>");
});

void test("links: safe schemes become a href, others keep their text", () => {
  assert.equal(
    html(`<a href="https://example.org/?a=1&amp;b=2">site</a>`).body,
    `<a href="https://example.org/?a=1&amp;b=2">site</a>`,
  );
  assert.equal(html(`<a href="mailto:x@y.z"><b>mail</b></a>`).body, `<a href="mailto:x@y.z"><b>mail</b></a>`);
  assert.deepEqual(html(`<a href="javascript:alert(1)">click</a>`), {
    type: "text",
    body: "click",
    emote: false,
  });
  assert.deepEqual(html(`<a href="data:text/html,x">click</a> <a>bare</a>`), {
    type: "text",
    body: "click bare",
    emote: false,
  });
  assert.equal(html(`<a href="https://x.y"></a>`).body, `<a href="https://x.y">https://x.y</a>`);
});

void test("pills of Skype ghosts → at; other users' pills → text", () => {
  const out = html(
    `<a href="https://matrix.to/#/@skype_bob:hs">Bob</a>: ask <a href="https://matrix.to/#/%40skype_dave%3Ahs?via=hs">Dave</a>` +
      ` and <a href="matrix:u/skype_bob:hs?action=chat">B</a>, not <a href="https://matrix.to/#/@alice:hs">Alice</a>`,
  );
  assert.equal(
    out.body,
    `<at id="8:live:bob">Bob</at>: ask <at id="8:dave.lister">Dave</at> and <at id="8:live:bob">B</at>, not Alice`,
  );
  // Room links are ordinary https links.
  assert.equal(
    html(`<a href="https://matrix.to/#/#room:hs">#room</a>`).body,
    `<a href="https://matrix.to/#/#room:hs">#room</a>`,
  );
  // A throwing resolver loses nothing but the pill.
  const out2 = matrixToSkype(
    {
      msgtype: "m.text",
      body: "",
      format: "org.matrix.custom.html",
      formatted_body: `<a href="https://matrix.to/#/@skype_bob:hs">Bob</a>`,
    },
    {
      puppetResolver: () => {
        throw new Error("x");
      },
    },
  );
  assert.deepEqual(out2, { type: "text", body: "Bob", emote: false });
});

void test("blockquote → quote", () => {
  assert.equal(
    html("<blockquote>\n<p>quoted <b>x</b></p>\n</blockquote>\n<p>reply</p>\n").body,
    "<quote>quoted <b>x</b></quote>\n\nreply",
  );
  assert.equal(html("a<blockquote>q</blockquote>b").body, "a\n<quote>q</quote>\nb");
});

void test("br and p become newlines; HTML whitespace collapses", () => {
  assert.deepEqual(html("<p>one  two\n three</p>\n<p>four<br>five<br/><br>six</p>\n"), {
    type: "text",
    body: "one two three\n\nfour\nfive\n\nsix",
    emote: false,
  });
  assert.equal(html("  <b> spaced </b>  out ").body, "<b>spaced</b> out");
  assert.equal(html("<div>a</div><div>b</div>").body, "a\nb");
});

void test("lists: bullets, numbers, start attribute, nesting", () => {
  assert.deepEqual(html("<ul>\n<li>one</li>\n<li><b>two</b></li>\n</ul>\n"), {
    type: "richtext",
    body: "• one\n• <b>two</b>",
    emote: false,
  });
  assert.equal(html(`<ol start="3"><li>c</li><li>d</li></ol>`).body, "3. c\n4. d");
  assert.equal(
    html("<ul><li>a<ol><li>x</li><li>y</li></ol></li><li>b</li></ul>after").body,
    "• a\n  1. x\n  2. y\n• b\nafter",
  );
  assert.equal(html("<ul><li><p>loose</p></li><li><p>list</p></li></ul>").body, "• loose\n• list");
  assert.equal(html("<ul><li></li><li>b</li><li> </li></ul>").body, "• \n• b\n•");
});

void test("headings, hr, img alt, tables, unknown tags", () => {
  assert.equal(html("<h1>Title</h1><p>text</p>").body, "<b>Title</b>\n\ntext");
  assert.equal(html("a<hr>b").body, "a\n----------\nb");
  assert.equal(html(`hi <img src="mxc://hs/x" alt=":party:"> <img src="mxc://hs/y">`).body, "hi :party:");
  assert.equal(
    html("<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>b</td></tr></table>").body,
    "k | v\na | b",
  );
  assert.equal(
    html(`<span data-mx-color="#f00">red</span> <u>under</u> <font>f</font> <sup>2</sup>`).body,
    "red under f 2",
  );
});

void test("entities and non-ASCII: decoded from HTML, XML-escaped for RichText, raw for Text", () => {
  // RichText text goes through the one escape helper (escapeHtml), which also escapes quotes.
  assert.equal(
    html("<b>Zoë &amp; 李</b> &lt;3 &quot;q&quot; it&#39;s").body,
    `<b>Zoë &amp; 李</b> &lt;3 &quot;q&quot; it&apos;s`,
  );
  assert.deepEqual(html("Zoë &amp; 李 &lt;3"), { type: "text", body: "Zoë & 李 <3", emote: false });
});

void test("plain bodies are sent as Text, unescaped", () => {
  assert.deepEqual(matrixToSkype({ msgtype: "m.text", body: "a < b && <b>c</b>" }), {
    type: "text",
    body: "a < b && <b>c</b>",
    emote: false,
  });
  // format other than HTML: the body is used.
  assert.equal(
    matrixToSkype({ msgtype: "m.text", body: "plain", format: "x", formatted_body: "<b>no</b>" }).body,
    "plain",
  );
});

void test("emote and notice", () => {
  assert.deepEqual(matrixToSkype({ msgtype: "m.emote", body: "waves" }), {
    type: "text",
    body: "waves",
    emote: true,
  });
  assert.deepEqual(
    matrixToSkype({
      msgtype: "m.emote",
      body: "x",
      format: "org.matrix.custom.html",
      formatted_body: "<em>dances</em>",
    }),
    { type: "richtext", body: "<i>dances</i>", emote: true },
  );
  assert.deepEqual(matrixToSkype({ msgtype: "m.notice", body: "bot says" }), {
    type: "text",
    body: "bot says",
    emote: false,
  });
});

void test("edits use m.new_content; without it the '* ' fallback prefix is removed", () => {
  const edit = {
    msgtype: "m.text",
    body: "* fixed",
    format: "org.matrix.custom.html",
    formatted_body: "* <b>fixed</b>",
    "m.new_content": {
      msgtype: "m.text",
      body: "fixed",
      format: "org.matrix.custom.html",
      formatted_body: "<b>fixed</b>",
    },
    "m.relates_to": { rel_type: "m.replace", event_id: "$orig" },
  };
  assert.deepEqual(matrixToSkype(edit), { type: "richtext", body: "<b>fixed</b>", emote: false });
  assert.deepEqual(
    matrixToSkype({
      msgtype: "m.emote",
      body: "* waves",
      "m.new_content": { body: "waves" },
      "m.relates_to": { rel_type: "m.replace" },
    }),
    { type: "text", body: "waves", emote: true },
  );
  assert.deepEqual(
    matrixToSkype({
      msgtype: "m.text",
      body: "* fixed",
      "m.relates_to": { rel_type: "m.replace", event_id: "$o" },
    }),
    { type: "text", body: "fixed", emote: false },
  );
});

void test("reply fallbacks are stripped from body and formatted_body", () => {
  const reply = {
    msgtype: "m.text",
    body: "> <@alice:hs> original\n> second line\n\nmy *reply*",
    format: "org.matrix.custom.html",
    formatted_body: `<mx-reply><blockquote><a href="https://matrix.to/#/!r:hs/$e">In reply to</a> <a href="https://matrix.to/#/@alice:hs">@alice:hs</a><br>original</blockquote></mx-reply>my <em>reply</em>`,
    "m.relates_to": { "m.in_reply_to": { event_id: "$e" } },
  };
  assert.deepEqual(matrixToSkype(reply), { type: "richtext", body: "my <i>reply</i>", emote: false });
  const { format: _f, formatted_body: _fb, ...plainReply } = reply;
  assert.deepEqual(matrixToSkype(plainReply), { type: "text", body: "my *reply*", emote: false });
});

void test("malformed content never throws", () => {
  const bad: unknown[] = [
    {},
    { body: 42 },
    { msgtype: "m.text", body: null, format: "org.matrix.custom.html", formatted_body: 7 },
    { body: "x", "m.new_content": "nope" },
    { body: "x", "m.new_content": null, "m.relates_to": null },
    { body: "x", format: "org.matrix.custom.html", formatted_body: "<mx-reply>only a reply</mx-reply>" },
  ];
  for (const c of bad) {
    const out = matrixToSkype(c as MatrixMessageContent, opts);
    assert.equal(typeof out.body, "string");
    assert.equal(out.emote, false);
  }
  // An HTML body that renders to nothing falls back to the plain body.
  assert.equal(
    matrixToSkype({ body: "x", format: "org.matrix.custom.html", formatted_body: "<mx-reply>r</mx-reply>" })
      .body,
    "x",
  );
});

void test("hostile HTML: scripts, styles, handlers and javascript: URLs leave only text", () => {
  const out = html(
    `<script>alert(1)</script><style>*{}</style><b onclick="alert(1)">hi</b>` +
      `<img src=x onerror=alert(1)><a href=" javascript:alert(1)">x</a><iframe src="https://e">y</iframe>`,
  );
  assert.deepEqual(out, { type: "richtext", body: "<b>hi</b>x", emote: false });
  assert.equal(html(`<at id="8:evil">x</at><quote author="8:evil">q</quote>`).body, "xq");
  assert.equal(html(`<b>&lt;script&gt;</b>`).body, "<b>&lt;script&gt;</b>");
});
