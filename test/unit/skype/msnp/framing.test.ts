import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameParser, splitPayload, type Frame } from "../../../../src/skype/msnp/framing.js";
import { connectXml } from "../../../../src/skype/msnp/payloads.js";
import { buildSdgBody } from "../../../../src/skype/msnp/messages.js";
import { ProtocolParseError, SkypeErrorCode } from "../../../../src/skype/errors.js";

const CRLF = "\r\n";

test("CNT 1 CON 114: the connect document of REFERENCE §3.2, byte for byte", () => {
  const buf = encodeFrame({ command: "CNT", trid: 1, type: "CON", body: connectXml() });
  const expected =
    "CNT 1 CON 114\r\n\r\n" +
    "<connect><ver>2</ver><agent><os>winnt</os><osVer>5.2</osVer><proc>x86</proc><lcid>en-us</lcid></agent></connect>";
  assert.equal(buf.toString("utf8"), expected);
});

test("SDG 9 MSGR 305: the text message of REFERENCE §7.1, byte for byte", () => {
  const body = buildSdgBody(
    "8:live:bob_1",
    { mri: "8:live:alice_1", epid: "d2b6c1a0-1111-2222-3333-444455556666", displayName: "Alice" },
    { kind: "text", text: "hi" },
    "6643607751647822671",
  );
  const buf = encodeFrame({
    command: "SDG",
    trid: 9,
    type: "MSGR",
    headers: [["Registration", "REG"]],
    body,
  });
  const expected = [
    "SDG 9 MSGR 305",
    "Registration: REG",
    "",
    "Routing: 1.0",
    "To: 8:live:bob_1",
    "From: 8:live:alice_1;epid={d2b6c1a0-1111-2222-3333-444455556666}",
    "",
    "Reliability: 1.0",
    "",
    "Messaging: 2.0",
    "Client-Message-ID: 6643607751647822671",
    "Message-Type: Text",
    "IM-Display-Name: Alice",
    "Content-Type: Text/plain; charset=UTF-8",
    "Content-Length: 2",
    "",
    "hi",
  ].join(CRLF);
  assert.equal(buf.toString("utf8"), expected);
});

test("lengths are UTF-8 byte counts", () => {
  const buf = encodeFrame({ command: "SDG", trid: 3, type: "MSGR", body: "Ånström 😀" });
  const head = buf.toString("utf8").split(CRLF)[0];
  assert.equal(head, `SDG 3 MSGR ${2 + Buffer.byteLength("Ånström 😀")}`);
  const [f] = new FrameParser().push(buf);
  assert.equal(f!.body.toString("utf8"), "Ånström 😀");
});

test("bare frames have length 0 and no payload", () => {
  assert.equal(
    encodeFrame({ command: "OUT", trid: 7, type: "CON", bare: true }).toString(),
    "OUT 7 CON 0\r\n",
  );
  const frames = new FrameParser().push(Buffer.from("OUT 0 CON 0\r\nPNG 2 CON 0\r\n"));
  assert.deepEqual(
    frames.map((f) => [f.command, f.trid, f.type, f.length, f.body.length, f.headers.size]),
    [
      ["OUT", 0, "CON", 0, 0, 0],
      ["PNG", 2, "CON", 0, 0, 0],
    ],
  );
});

test("payload with a top block, with only the empty top block, and without one", () => {
  const p = new FrameParser();
  const frames = p.push(
    Buffer.from(
      "BND 3 CON 41\r\nset-registration: abc\r\n\r\n<nonce>x</nonce>" +
        "PUT 4 MSGR 2\r\n\r\n" +
        "911 2 CON 21\r\nAuthentication failed",
    ),
  );
  assert.equal(frames.length, 3);
  assert.equal(frames[0]!.headers.get("Set-Registration"), "abc", "header names are case-insensitive");
  assert.equal(frames[0]!.body.toString(), "<nonce>x</nonce>");
  assert.equal(frames[1]!.headers.size, 0);
  assert.equal(frames[1]!.body.length, 0);
  assert.equal(frames[2]!.command, "911");
  assert.equal(frames[2]!.body.toString(), "Authentication failed");
});

test("a payload that starts with the Routing block has no top block", () => {
  const { headers, body } = splitPayload(
    Buffer.from("Routing: 1.0\r\nTo: 8:a\r\n\r\nReliability: 1.0\r\n\r\n"),
  );
  assert.equal(headers.size, 0);
  assert.ok(body.toString().startsWith("Routing: 1.0"));
  const xml = splitPayload(Buffer.from("<ping-response><wait>50</wait></ping-response>"));
  assert.equal(xml.headers.size, 0);
  assert.equal(xml.body.toString(), "<ping-response><wait>50</wait></ping-response>");
});

test("partial reads: one byte at a time", () => {
  const stream = Buffer.concat([
    encodeFrame({ command: "CNT", trid: 1, type: "CON", body: connectXml() }),
    encodeFrame({ command: "NFY", trid: 0, type: "MSGR\\ABCH", headers: [["Ack-Id", "1F"]], body: "<x/>" }),
  ]);
  const p = new FrameParser();
  const got: Frame[] = [];
  for (const b of stream) got.push(...p.push(Buffer.from([b])));
  assert.equal(got.length, 2);
  assert.equal(got[0]!.body.toString(), connectXml());
  assert.equal(got[1]!.type, "MSGR\\ABCH");
  assert.equal(got[1]!.headers.get("ack-id"), "1F");
  assert.equal(p.buffered, 0);
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test("random re-chunking of a long frame stream yields the same frames", () => {
  const r = rng(42);
  const sent: { trid: number; body: string; headers: [string, string][] }[] = [];
  for (let i = 0; i < 300; i++) {
    const body = i % 7 === 0 ? "" : `msg ${i} ✓ ${"é".repeat(Math.floor(r() * 40))}`;
    const headers: [string, string][] = i % 3 === 0 ? [] : [["Ack-Id", `A${i}`]];
    sent.push({ trid: i, body, headers });
  }
  const stream = Buffer.concat(
    sent.map((s) =>
      encodeFrame({ command: "SDG", trid: s.trid, type: "MSGR", headers: s.headers, body: s.body }),
    ),
  );
  for (let round = 0; round < 20; round++) {
    const p = new FrameParser();
    const got: Frame[] = [];
    let pos = 0;
    while (pos < stream.length) {
      const n = 1 + Math.floor(r() * (round % 2 ? 7 : 700));
      got.push(...p.push(stream.subarray(pos, pos + n)));
      pos += n;
    }
    assert.equal(got.length, sent.length);
    got.forEach((f, i) => {
      assert.equal(f.trid, sent[i]!.trid);
      assert.equal(f.body.toString("utf8"), sent[i]!.body);
      assert.equal(f.headers.get("Ack-Id"), sent[i]!.headers[0]?.[1]);
    });
  }
});

function parseError(input: string, opts?: { maxFrameBytes?: number }): ProtocolParseError {
  const p = new FrameParser(opts);
  try {
    p.push(Buffer.from(input));
  } catch (e) {
    assert.ok(e instanceof ProtocolParseError);
    assert.equal(e.code, SkypeErrorCode.MsnpFraming);
    assert.throws(() => p.push(Buffer.from("PNG 1 CON 0\r\n")), ProtocolParseError, "stays failed");
    return e;
  }
  assert.fail(`no error for ${JSON.stringify(input)}`);
}

test("malformed command lines, oversize frames and endless lines are framing errors", () => {
  assert.match(parseError("HELLO WORLD\r\n").message, /malformed/);
  assert.match(parseError("CNT one CON 5\r\n").message, /malformed/);
  assert.match(parseError("CNT 1 CON 5 6\r\n").message, /malformed/);
  assert.match(parseError("CNT 1 CON 2000\r\n", { maxFrameBytes: 1000 }).message, /exceeds/);
  assert.match(parseError("X".repeat(5000)).message, /too long/);
  assert.match(parseError("CNT 1 C\u00c9N 5\r\n").message, /non-ASCII/);
  // A length shorter than the payload leaves garbage where the next command line should be.
  assert.match(parseError("CNT 1 CON 2\r\n\r\n<connect-response/>\r\n").message, /malformed/);
});

test("liberal forms: stray empty lines, missing length", () => {
  const frames = new FrameParser().push(Buffer.from("\r\nOUT 0 CON\r\n\r\nPNG 5 CON 0\r\n"));
  assert.deepEqual(
    frames.map((f) => `${f.command} ${f.trid} ${f.type} ${f.length}`),
    ["OUT 0 CON 0", "PNG 5 CON 0"],
  );
});
