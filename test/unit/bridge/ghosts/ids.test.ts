import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_DISPLAY_NAME_LENGTH,
  PuppetIdError,
  displayName,
  escapeSkypeId,
  parsePuppetMxid,
  puppetLocalpart,
  puppetMxid,
  puppetUserIdRegex,
  unescapeSkypeId,
} from "../../../../src/bridge/ghosts/ids.js";
import { isInPuppetNamespace, localpartTemplateProblem } from "../../../../src/config/templates.js";

const T = "skype_{id}";
const LOCALPART_GRAMMAR = /^[a-z0-9._=\-/]+$/;

/** Small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
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

const POOL = [
  ..."abcxyzABCXYZ0189._-/=+:@ !#$%&'()*,;<>?[]\\^`{|}~\"\t\n",
  "_",
  "__",
  "é",
  "ß",
  "Ä",
  "中",
  "文",
  "😀",
  "👩‍💻",
  "\u0000",
  "\u00a0",
  "\u200d",
  "\uffff",
  "𝔸",
];

function randomKey(next: () => number): string {
  const length = 1 + Math.floor(next() * 24);
  let s = "";
  for (let i = 0; i < length; i++) {
    s +=
      next() < 0.15
        ? String.fromCodePoint(1 + Math.floor(next() * 0x10fffe))
        : POOL[Math.floor(next() * POOL.length)]!;
  }
  // Code points in the surrogate range cannot be escaped; those are tested separately.
  return s.replace(/\p{Cs}/gu, "x");
}

void test("known examples", () => {
  assert.equal(escapeSkypeId("8:live:alice_1"), "8=3alive=3aalice__1");
  assert.equal(escapeSkypeId("1:alice@hotmail.co.uk"), "1=3aalice=40hotmail.co.uk");
  assert.equal(escapeSkypeId("8:Dave.Lister"), "8=3a_dave._lister");
  assert.equal(escapeSkypeId("8:echo123"), "8=3aecho123");
  assert.equal(escapeSkypeId("19:0a1b@thread.skype"), "19=3a0a1b=40thread.skype");
  assert.equal(escapeSkypeId("8:zoë"), "8=3azo=c3=ab");
  assert.equal(escapeSkypeId("a=b+c/d-e"), "a=3db=2bc/d-e");
  assert.equal(puppetLocalpart(T, "8:live:alice_1"), "skype_8=3alive=3aalice__1");
  assert.equal(puppetMxid(T, "8:live:alice_1", "localhost"), "@skype_8=3alive=3aalice__1:localhost");
  assert.equal(puppetMxid("{id}.skype", "8:bob", "example.org:8448"), "@8=3abob.skype:example.org:8448");
});

void test("property: round trip, localpart grammar, injectivity", () => {
  const seed = 20240611;
  const next = prng(seed);
  const seen = new Map<string, string>();
  for (let i = 0; i < 3000; i++) {
    const key = randomKey(next);
    const escaped = escapeSkypeId(key);
    assert.match(escaped, LOCALPART_GRAMMAR, `seed ${seed} case ${i}: ${JSON.stringify(key)}`);
    assert.equal(unescapeSkypeId(escaped), key, `seed ${seed} case ${i}`);
    const mxid = puppetMxid(T, key, "example.org");
    assert.equal(parsePuppetMxid(T, mxid, "example.org"), key);
    const earlier = seen.get(escaped);
    assert.ok(earlier === undefined || earlier === key, `collision: ${JSON.stringify([earlier, key])}`);
    seen.set(escaped, key);
  }
  assert.ok(seen.size > 2500);
});

void test("every single code point round-trips (BMP and a sample of astral planes)", () => {
  for (let cp = 1; cp < 0x30000; cp += cp < 0x800 ? 1 : 97) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const key = String.fromCodePoint(cp);
    const escaped = escapeSkypeId(key);
    assert.match(escaped, LOCALPART_GRAMMAR);
    assert.equal(unescapeSkypeId(escaped), key, `U+${cp.toString(16)}`);
  }
});

void test("only canonical escapings parse", () => {
  for (const bad of [
    "",
    "A",
    "a_",
    "_1",
    "_A",
    "=",
    "=4",
    "=4G",
    "=4A", // upper-case hex
    "=61", // "a" must be written as itself
    "=5f", // "_" must be "__"
    "=41", // "A" must be "_a"
    "=c3", // truncated UTF-8
    "=ff",
    "=ed=a0=80", // an encoded surrogate is not UTF-8
    "a+b",
    "a:b",
    "a b",
  ]) {
    assert.equal(unescapeSkypeId(bad), null, JSON.stringify(bad));
  }
});

void test("parsePuppetMxid refuses what is not one of our puppets", () => {
  const d = "example.org";
  assert.equal(parsePuppetMxid(T, "@skype_8=3abob:example.org", d), "8:bob");
  for (const other of [
    "@skype_8=3abob:other.org",
    "@skype_8=3abob:example.org:8448",
    "skype_8=3abob:example.org",
    "@skype_:example.org",
    "@skype:example.org",
    "@alice:example.org",
    "@skypebot:example.org",
    "@skype_8=3A:example.org",
    "@skype_8=3abob",
    "@:example.org",
    "",
  ]) {
    assert.equal(parsePuppetMxid(T, other, d), null, other);
  }
  const suffixed = "{id}_skype";
  assert.equal(parsePuppetMxid(suffixed, puppetMxid(suffixed, "8:a_", d), d), "8:a_");
  assert.equal(parsePuppetMxid(suffixed, "@_skype:example.org", d), null);
});

void test("bad input gives PuppetIdError, never a crash", () => {
  assert.throws(() => puppetLocalpart(T, ""), PuppetIdError);
  assert.throws(() => escapeSkypeId("a\ud800b"), PuppetIdError);
  assert.throws(() => puppetLocalpart("skype_", "8:a"), PuppetIdError);
  assert.throws(() => puppetLocalpart("{id}", "8:a"), PuppetIdError);
  assert.throws(() => puppetLocalpart("{id}_{id}", "8:a"), PuppetIdError);
  assert.throws(() => puppetLocalpart("Skype_{id}", "8:a"), PuppetIdError);
  assert.throws(() => puppetMxid(T, "x".repeat(250), "example.org"), /255 bytes/);
  assert.throws(() => displayName("Skype", "Alice"), PuppetIdError);
});

void test("template rules", () => {
  assert.equal(localpartTemplateProblem("skype_{id}"), null);
  assert.equal(localpartTemplateProblem("{id}.skype"), null);
  assert.equal(localpartTemplateProblem("_skype+{id}"), null);
  assert.match(localpartTemplateProblem("skype_") ?? "", /exactly once/);
  assert.match(localpartTemplateProblem("{id}") ?? "", /besides/);
  assert.match(localpartTemplateProblem("sky pe_{id}") ?? "", /may contain only/);
});

void test("the registration regex covers every puppet and nothing else", () => {
  const re = new RegExp(puppetUserIdRegex(T, "example.org"));
  assert.equal(puppetUserIdRegex(T, "example.org"), "^@skype_[a-z0-9._=/-]+:example\\.org$");
  const next = prng(7);
  for (let i = 0; i < 500; i++) {
    assert.match(puppetMxid(T, randomKey(next), "example.org"), re);
  }
  for (const other of [
    "@skypebot:example.org",
    "@skype_:example.org",
    "@skype_a:exampleXorg",
    "@skype_a:example.org.evil",
    "@alice:example.org",
  ]) {
    assert.doesNotMatch(other, re);
  }
  const odd = puppetUserIdRegex("+s.{id}", "localhost:8448");
  assert.equal(odd, "^@\\+s\\.[a-z0-9._=/-]+:localhost:8448$");
  assert.match(puppetMxid("+s.{id}", "8:x", "localhost:8448"), new RegExp(odd, "u"));
  assert.ok(isInPuppetNamespace(T, "skype_bot"));
  assert.ok(!isInPuppetNamespace(T, "skypebot"));
  assert.ok(!isInPuppetNamespace(T, "skype_"));
});

void test("display names", () => {
  assert.equal(displayName("{name} (Skype)", "Alice Smith"), "Alice Smith (Skype)");
  assert.equal(displayName("{name} (Skype)", "  Bob\n\u0007 "), "Bob (Skype)");
  assert.equal(displayName("{name} (Skype)", "", "live:carol"), "live:carol (Skype)");
  assert.equal(displayName("{name} aka {name}", "D"), "D aka D");
  assert.equal(displayName("{name} (Skype)", "{name}"), "{name} (Skype)");
  const long = displayName("{name} (Skype)", "😀".repeat(400));
  assert.equal(Array.from(long).length, MAX_DISPLAY_NAME_LENGTH);
  assert.ok(long.endsWith("… (Skype)"));
  assert.ok(!/\p{Cs}/u.test(long));
});
