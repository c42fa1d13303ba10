import { test } from "node:test";
import assert from "node:assert/strict";
import { stripReplyFallback } from "../../../../src/bridge/convert/index.js";

void test("strips a single-line fallback and the blank line after it", () => {
  assert.equal(stripReplyFallback("> <@alice:example.org> hello\n\nmy reply"), "my reply");
});

void test("strips multi-line fallbacks, including empty quoted lines", () => {
  assert.equal(
    stripReplyFallback("> <@alice:hs> line one\n> line two\n>\n> line four\n\nanswer\nmore"),
    "answer\nmore",
  );
});

void test("strips the emote form of a fallback", () => {
  assert.equal(stripReplyFallback("> * <@alice:hs> waves\n\nhi"), "hi");
});

void test("leaves ordinary quotes and text alone", () => {
  for (const body of [
    "> just a quote\n\ntext",
    "plain",
    "> <not a user> x\n\ny",
    "",
    ">",
    "a\n> <@alice:hs> x",
  ]) {
    assert.equal(stripReplyFallback(body), body);
  }
});

void test("a body that is only a fallback becomes empty", () => {
  assert.equal(stripReplyFallback("> <@alice:hs> x\n> y"), "");
});
