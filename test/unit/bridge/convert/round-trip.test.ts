import { test } from "node:test";
import assert from "node:assert/strict";
import { matrixToSkype, skypeToMatrix } from "../../../../src/bridge/convert/index.js";

// Skype → Matrix → Skype: the Skype subset survives a trip through Matrix HTML.
const skypeToMatrixOpts = {
  mentionResolver: (mri: string) =>
    mri === "8:live:bob" ? { mxid: "@skype_bob:hs", displayName: "Bob" } : undefined,
};
const matrixToSkypeOpts = {
  puppetResolver: (mxid: string) => (mxid === "@skype_bob:hs" ? "8:live:bob" : undefined),
};

function viaMatrix(body: string): { type: string; body: string } {
  const m = skypeToMatrix({ type: "richtext", body }, skypeToMatrixOpts);
  const s = matrixToSkype({ ...m }, matrixToSkypeOpts);
  return { type: s.type, body: s.body };
}

void test("Skype RichText survives Skype → Matrix → Skype", () => {
  for (const body of [
    "<b>bold</b> and <i>italic</i> and <s>struck</s>",
    "<b>a <i>b <s>c</s></i></b>",
    "x &lt; y &amp;&amp; z &gt; 0 <b>ok</b>",
    "<b>line one</b>\nline two",
    'hi <at id="8:live:bob">Bob</at>!',
    '<a href="https://example.org/a?b=1&amp;c=2">link</a>',
    "run <pre>ls -l</pre>",
    "<pre>multi\n  line</pre>",
    "<quote>quoted <b>text</b></quote>",
    "Zoë 李 😀 <i>ünïcödé</i>",
  ]) {
    assert.deepEqual(viaMatrix(body), { type: "richtext", body }, body);
  }
});

void test("RichText without formatting comes back as plain Text, decoded", () => {
  assert.deepEqual(viaMatrix("a &amp; b\nc"), { type: "text", body: "a & b\nc" });
});

void test("emoticons come back as emoji, quote authors as text inside the quote", () => {
  assert.deepEqual(viaMatrix('<ss type="smile">:)</ss>'), { type: "text", body: "🙂" });
  assert.deepEqual(viaMatrix('<quote authorname="Bob">hi</quote>ok'), {
    type: "richtext",
    body: "<quote><b>Bob</b> wrote:\nhi</quote>\nok",
  });
});

void test("Matrix HTML survives Matrix → Skype → Matrix", () => {
  for (const formatted_body of [
    "<strong>bold</strong> <em>it</em> <del>gone</del>",
    "a &amp; b &lt; c<br><strong>next</strong>",
    '<a href="https://matrix.to/#/@skype_bob:hs">Bob</a>: <code>x</code>',
    "<pre><code>one\ntwo</code></pre>",
    "<blockquote>q</blockquote>after",
  ]) {
    const s = matrixToSkype(
      { msgtype: "m.text", body: "", format: "org.matrix.custom.html", formatted_body },
      matrixToSkypeOpts,
    );
    const m = skypeToMatrix({ type: s.type, body: s.body }, skypeToMatrixOpts);
    assert.equal(m.formatted_body, formatted_body);
  }
});

void test("emote flag survives both directions", () => {
  const s = matrixToSkype({ msgtype: "m.emote", body: "waves" });
  assert.equal(skypeToMatrix({ type: s.type, body: s.body, emote: s.emote }).msgtype, "m.emote");
});
