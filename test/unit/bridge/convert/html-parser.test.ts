import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type HtmlElement,
  type HtmlNode,
  parseHtml,
  textContent,
} from "../../../../src/bridge/convert/index.js";

/** Compact tree dump: `b(text,i(x))`. */
function dump(node: HtmlNode): string {
  if (node.type === "text") return JSON.stringify(node.text);
  const kids = node.children.map(dump).join(",");
  return node.name === "#root" ? kids : `${node.name}(${kids})`;
}

/** The root's only child as text, failing when the input produced any element. */
function onlyText(input: string): string {
  const root = parseHtml(input);
  assert.equal(root.children.length, 1, dump(root));
  const only = root.children[0];
  assert.ok(only?.type === "text", dump(root));
  return only.text;
}

void test("parser: tags, attributes in every quoting style, entities", () => {
  const root = parseHtml(`a<B Class='x' data-y="1 &amp; 2" z=3 flag>b</b ><br/>&lt;`);
  assert.equal(dump(root), `"a",b("b"),br(),"<"`);
  const b = root.children[1];
  assert.ok(b?.type === "element");
  assert.equal(b.name, "b");
  assert.deepEqual(
    [...b.attrs],
    [
      ["class", "x"],
      ["data-y", "1 & 2"],
      ["z", "3"],
      ["flag", ""],
    ],
  );
  const br = root.children[2];
  assert.ok(br?.type === "element");
  assert.deepEqual(br.attrs, new Map());
});

void test("parser: `/>` ends any element, as in Skype's XML", () => {
  assert.equal(dump(parseHtml(`<e_m a="1" ts="2"/>ok<b/>after`)), `e_m(),"ok",b(),"after"`);
});

void test("parser: stray '<' and unterminated markup become text", () => {
  assert.equal(onlyText("a < b <3 <> 1<2"), "a < b <3 <> 1<2");
  assert.equal(onlyText("x <b y"), "x <b y");
  assert.equal(onlyText(`x <a href="unclosed>y`), `x <a href="unclosed>y`);
  assert.equal(onlyText("x <!-- never closed"), "x <!-- never closed");
  assert.equal(onlyText("x <![CDATA[ never closed"), "x <![CDATA[ never closed");
  assert.equal(onlyText("x <!DOCTYPE"), "x <!DOCTYPE");
  assert.equal(onlyText("x <br/"), "x <br/");
  // An end tag cut off by the end of input closes nothing.
  assert.equal(dump(parseHtml("<b>x</b y")), `b("x</b y")`);
  assert.equal(dump(parseHtml("<b>bold <i x")), `b("bold <i x")`);
});

void test("parser: comments, doctype, processing instructions dropped; CDATA is text", () => {
  assert.equal(
    onlyText("<!DOCTYPE html><?xml version='1.0'?>a<!-- <b>c</b> -->b<![CDATA[<i>&amp;]]>"),
    "ab<i>&amp;",
  );
});

void test("parser: raw-text elements are skipped whole", () => {
  assert.equal(
    dump(
      parseHtml("a<script>if (a<b) { x = '</b>'; }</SCRIPT >b<style>p{}</style>c<script>never closed <b>"),
    ),
    `"abc"`,
  );
  assert.equal(dump(parseHtml("a<textarea><b>x</textarea>b<title>t &amp; u</title>c")), `"abc"`);
});

void test("parser: attribute names are not object keys (no prototype pollution)", () => {
  const open = parseHtml(`<a __proto__="x" constructor="y" href="z">`).children[0];
  assert.ok(open?.type === "element");
  assert.equal(open.attrs.get("__proto__"), "x");
  assert.equal(open.attrs.get("constructor"), "y");
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
