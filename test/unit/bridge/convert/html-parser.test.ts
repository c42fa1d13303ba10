import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type HtmlElement,
  type HtmlNode,
  parseHtml,
  textContent,
  tokenizeHtml,
} from "../../../../src/bridge/convert/index.js";

/** Compact tree dump: `b(text,i(x))`. */
function dump(node: HtmlNode): string {
  if (node.type === "text") return JSON.stringify(node.text);
  const kids = node.children.map(dump).join(",");
  return node.name === "#root" ? kids : `${node.name}(${kids})`;
}

void test("tokenizer: tags, attributes in every quoting style, entities", () => {
  const toks = tokenizeHtml(`a<B Class='x' data-y="1 &amp; 2" z=3 flag>b</b ><br/>&lt;`);
  assert.deepEqual(toks[0], { kind: "text", text: "a" });
  const open = toks[1];
  assert.ok(open?.kind === "open");
  assert.equal(open.name, "b");
  assert.deepEqual(
    [...open.attrs],
    [
      ["class", "x"],
      ["data-y", "1 & 2"],
      ["z", "3"],
      ["flag", ""],
    ],
  );
  assert.deepEqual(toks[3], { kind: "close", name: "b" });
  assert.deepEqual(toks[4], { kind: "open", name: "br", attrs: new Map(), selfClosing: true });
  assert.deepEqual(toks[5], { kind: "text", text: "<" });
});

void test("tokenizer: stray '<' and unterminated markup become text", () => {
  assert.deepEqual(tokenizeHtml("a < b <3 <> 1<2"), [{ kind: "text", text: "a < b <3 <> 1<2" }]);
  assert.deepEqual(tokenizeHtml("x <b y"), [{ kind: "text", text: "x <b y" }]);
  assert.deepEqual(tokenizeHtml(`x <a href="unclosed>y`), [{ kind: "text", text: `x <a href="unclosed>y` }]);
  assert.deepEqual(tokenizeHtml("x <!-- never closed"), [{ kind: "text", text: "x <!-- never closed" }]);
});

void test("tokenizer: comments, doctype, processing instructions dropped; CDATA is text", () => {
  assert.deepEqual(
    tokenizeHtml("<!DOCTYPE html><?xml version='1.0'?>a<!-- <b>c</b> -->b<![CDATA[<i>&amp;]]>"),
    [{ kind: "text", text: "ab<i>&amp;" }],
  );
});

void test("tokenizer: raw-text elements are skipped whole", () => {
  const toks = tokenizeHtml(
    "a<script>if (a<b) { x = '</b>'; }</SCRIPT >b<style>p{}</style>c<script>never closed <b>",
  );
  assert.deepEqual(
    toks.filter((t) => t.kind === "text").map((t) => (t.kind === "text" ? t.text : "")),
    ["a", "b", "c"],
  );
});

void test("tokenizer: attribute names are not object keys (no prototype pollution)", () => {
  const toks = tokenizeHtml(`<a __proto__="x" constructor="y" href="z">`);
  const open = toks[0];
  assert.ok(open?.kind === "open");
  assert.equal(open.attrs.get("__proto__"), "x");
  assert.equal(({} as Record<string, unknown>)["x"], undefined);
});

void test("tree: unclosed tags close at the end, stray end tags are ignored", () => {
  assert.equal(dump(parseHtml("<b>a<i>b</b>c</i>d</u>")), `b("a",i("b")),"cd"`);
  assert.equal(dump(parseHtml("<b>open <i>deeper")), `b("open ",i("deeper"))`);
});

void test("tree: implied closes of p and li, void elements", () => {
  assert.equal(dump(parseHtml("<p>a<p>b<ul><li>1<li>2</ul>")), `p("a"),p("b"),ul(li("1"),li("2"))`);
  assert.equal(dump(parseHtml("a<br>b<img src=x>c<hr>")), `"a",br(),"b",img(),"c",hr()`);
  assert.equal(dump(parseHtml("<ul><li>x<ul><li>y</ul></ul>")), `ul(li("x",ul(li("y"))))`);
});

void test("tree: dropWithContent removes subtrees, including nested same-name ones", () => {
  const root = parseHtml("a<mx-reply>x<mx-reply>y</mx-reply>z</mx-reply>b<mx-reply/>c", {
    dropWithContent: new Set(["mx-reply"]),
  });
  assert.equal(dump(root), `"abc"`);
  assert.equal(dump(parseHtml("a<mx-reply>never closed", { dropWithContent: new Set(["mx-reply"]) })), `"a"`);
});

void test("tree: nesting beyond maxDepth is flattened, text kept", () => {
  const root = parseHtml("<b>".repeat(10) + "x", { maxDepth: 3 });
  let depth = 0;
  let node: HtmlElement | undefined = root;
  while (node) {
    const next: HtmlNode | undefined = node.children[0];
    node = next?.type === "element" ? next : undefined;
    if (node) depth++;
  }
  assert.equal(depth, 3);
  assert.equal(textContent(root), "x");
});
