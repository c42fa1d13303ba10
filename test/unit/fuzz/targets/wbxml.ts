// SPDX-License-Identifier: Apache-2.0
/** Fuzz targets of the WBXML codec (src/skype/activesync/wbxml.ts). */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CodePage, tagName } from "../../../../src/skype/activesync/code-pages.js";
import {
  decodeWbxml,
  encodeWbxml,
  type WbxmlElement,
  type WbxmlNode,
} from "../../../../src/skype/activesync/wbxml.js";
import { ProtocolParseError, SkypeErrorCode } from "../../../../src/skype/errors.js";
import { defineTarget, type SomeTarget } from "../harness.js";

/** Every tag of every page, read from the code-page tables (tokens 0x05–0x3f). */
const TAGS: { page: number; tag: string }[] = [];
for (const page of Object.values(CodePage)) {
  for (let token = 0x05; token <= 0x3f; token++) {
    const tag = tagName(page, token);
    if (tag !== undefined) TAGS.push({ page, tag });
  }
}

function wbxmlError(e: unknown): boolean {
  return e instanceof ProtocolParseError && e.code === SkypeErrorCode.Wbxml;
}

/** Decodes; only the codec's typed error may come out. Checks what a decoded tree may hold. */
function decodeOrTypedError(bytes: Uint8Array): WbxmlElement | undefined {
  let root: WbxmlElement;
  try {
    root = decodeWbxml(bytes);
  } catch (e) {
    if (!wbxmlError(e)) throw e;
    assert.ok((e as Error).message.length < 200);
    return undefined;
  }
  // Memory: a decoded tree is never larger than its input (no expansion, no shared subtrees).
  let nodes = 0;
  let bytesHeld = 0;
  const stack: [WbxmlNode, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [n, depth] = stack.pop()!;
    nodes++;
    // UTF-16 units: damaged UTF-8 decodes to U+FFFD (3 bytes in UTF-8, 1 unit) per bad byte.
    if (typeof n === "string") bytesHeld += n.length;
    else if (n instanceof Uint8Array) bytesHeld += n.length;
    else {
      assert.ok(depth <= 65, `decoded tree ${depth} deep`);
      for (const c of n.children) stack.push([c, depth + 1]);
    }
  }
  assert.ok(nodes <= bytes.length, `${nodes} nodes from ${bytes.length} bytes`);
  assert.ok(bytesHeld <= bytes.length, `${bytesHeld} content bytes from ${bytes.length} bytes`);
  return root;
}

const HEADER = [0x03, 0x01, 0x6a, 0x00];
/** Bytes that look like WBXML often enough to get past the header. */
const wbxmlish = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(0x00, 0x01, 0x03, 0x83, 0xc3, 0x40, 0x80, 0x45, 0x4f, 0x05, 0x7f, 0xff),
        fc.integer({ min: 0, max: 255 }),
      ),
      { maxLength: 256 },
    )
    .map((a) => Uint8Array.from([...HEADER, ...a])),
  // Lengths that lie: a 4 GiB opaque or string table must fail without allocating it.
  fc
    .tuple(fc.constantFrom(0x83, 0xc3), fc.uint8Array({ minLength: 1, maxLength: 6 }))
    .map(([t, len]) =>
      Uint8Array.from([...HEADER, 0x45, t, ...len.map((b, i) => (i < len.length - 1 ? b | 0x80 : b & 0x7f))]),
    ),
  fc
    .uint8Array({ minLength: 1, maxLength: 6 })
    .map((len) => Uint8Array.from([0x03, 0x01, 0x6a, ...len.map((b) => b | 0x80), 0x00, 0x45, 0x01])),
);

const anyBytes = defineTarget<Uint8Array>({
  name: "wbxml: arbitrary bytes decode or fail with a Wbxml error",
  arbitrary: wbxmlish,
  check(bytes) {
    decodeOrTypedError(bytes);
  },
});

/** Text WBXML can carry: no NUL (the string terminator); well-formed UTF-16 (no lone surrogates). */
const text = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.constantFrom("", " ", "é😀", "<&>", "\u0001", "\r\n"),
);

const { tree } = fc.letrec<{ tree: WbxmlElement; node: WbxmlNode }>((tie) => ({
  tree: fc
    .record({
      at: fc.constantFrom(...TAGS),
      children: fc.array(tie("node"), { maxLength: 4, depthIdentifier: "wbxml" }),
    })
    .map(({ at, children }) => ({ page: at.page, tag: at.tag, children })),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true, depthIdentifier: "wbxml" },
    text,
    fc.uint8Array({ maxLength: 16 }),
    tie("tree"),
  ),
}));

const roundTrip = defineTarget<WbxmlElement>({
  name: "wbxml: encode → decode round trip",
  arbitrary: tree,
  check(root) {
    const bytes = encodeWbxml(root);
    assert.deepEqual(decodeWbxml(bytes), root);
  },
});

/** Nesting around the limit: what the encoder writes, the decoder must read back. */
const deepChain = defineTarget<{ depth: number; leaf: string | undefined }>({
  name: "wbxml: nesting near the depth limit round-trips or is refused by the encoder",
  arbitrary: fc.record({ depth: fc.integer({ min: 1, max: 80 }), leaf: fc.option(text, { nil: undefined }) }),
  check({ depth, leaf }) {
    let el: WbxmlElement = { page: 0, tag: "Sync", children: leaf === undefined ? [] : [leaf] };
    for (let i = 1; i < depth; i++) el = { page: 0, tag: "Collection", children: [el] };
    let bytes: Uint8Array;
    try {
      bytes = encodeWbxml(el);
    } catch (e) {
      if (!wbxmlError(e)) throw e;
      return;
    }
    assert.deepEqual(decodeWbxml(bytes), el);
  },
});

/** A valid document damaged: bytes flipped, inserted, removed, or cut off. */
const mutated = defineTarget<{ root: WbxmlElement; edits: { at: number; op: number; byte: number }[] }>({
  name: "wbxml: damaged documents decode or fail with a Wbxml error",
  arbitrary: fc.record({
    root: tree,
    edits: fc.array(
      fc.record({ at: fc.nat(), op: fc.integer({ min: 0, max: 3 }), byte: fc.integer({ min: 0, max: 255 }) }),
      { minLength: 1, maxLength: 4 },
    ),
  }),
  check({ root, edits }) {
    const bytes = [...encodeWbxml(root)];
    for (const { at, op, byte } of edits) {
      const i = at % (bytes.length + 1);
      if (op === 0) bytes[i] = byte;
      else if (op === 1) bytes.splice(i, 0, byte);
      else if (op === 2) bytes.splice(i, 1);
      else bytes.length = i;
    }
    decodeOrTypedError(Uint8Array.from(bytes));
  },
});

export const wbxmlTargets: SomeTarget[] = [anyBytes, roundTrip, deepChain, mutated];
