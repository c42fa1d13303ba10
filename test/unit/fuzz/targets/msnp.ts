// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzz targets of the MSNP24 framing (src/skype/msnp/framing.ts) and multi-part bodies (body.ts).
 * The parser is fed with arbitrary chunking; small limits (512-byte frames, 64-byte lines) put the
 * limit checks within reach of short inputs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildMultipart, parseMultipart } from "../../../../src/skype/msnp/body.js";
import {
  encodeFrame,
  FrameParser,
  type Frame,
  type OutgoingFrame,
} from "../../../../src/skype/msnp/framing.js";
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "../../../../src/skype/errors.js";
import { SelfIdentity } from "../../../../src/skype/msnp/identity.js";
import { rawFromPush } from "../../../../src/skype/msnp/messages.js";
import { PresenceTracker } from "../../../../src/skype/msnp/presence.js";
import { Receiver } from "../../../../src/skype/msnp/receiver.js";
import { parseThreadActivity, parseThreads } from "../../../../src/skype/msnp/threads.js";
import { silentLogger } from "../../../../src/skype/log.js";
import { chunk, defineTarget, type SomeTarget } from "../harness.js";

const LIMITS = { maxFrameBytes: 512, maxLineBytes: 64 };
const BLOCK_NAMES = ["routing", "reliability", "messaging", "publication", "notification"];

// ——— Generators ———

const headerName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,11}$/);
/** Any text: the encoder must cope with CR/LF, U+2028, NUL, spaces at either end, emoji. */
const headerValue = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: "binary", maxLength: 24 }),
  fc.constantFrom("", " a ", "x\r\ny", "a\u2028b", "\u0085", "\t", "é😀", "v;epid={1}", "a: b"),
);
const headerList = fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 });
/** A top block: its first name must not be a content-block name, or the payload has no top block. */
const topHeaders = headerList.filter((h) => h.length === 0 || !BLOCK_NAMES.includes(h[0]![0].toLowerCase()));

const body = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constantFrom("", "\r\n", "\r\n\r\n", "CNT 1 CON 3\r\n", "<a>&amp;</a>"),
);

const outgoingFrame: fc.Arbitrary<OutgoingFrame> = fc.record({
  command: fc.oneof(fc.stringMatching(/^[A-Z]{3}$/), fc.stringMatching(/^\d{3}$/)),
  trid: fc.integer({ min: 0, max: 2 ** 31 }),
  type: fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,5}(\\[A-Za-z][A-Za-z0-9]{0,5}){0,2}$/),
  headers: topHeaders,
  body,
  bare: fc.boolean(),
});

/** Cut points: arbitrary chunking, from one chunk to one byte per chunk. */
const cuts = fc.array(fc.nat({ max: 4096 }), { maxLength: 64 });

/** A header value as the reader gives it back: line breaks become spaces, blanks trimmed. */
export function expectedValue(v: string): string {
  return v.replace(/[\r\n]+/g, " ").replace(/^[ \t]+|[ \t]+$/g, "");
}

function framingError(e: unknown): boolean {
  return e instanceof ProtocolParseError && e.code === SkypeErrorCode.MsnpFraming;
}

/** What a frame means, comparable with deepEqual. */
function view(f: Frame) {
  return {
    command: f.command,
    trid: f.trid,
    type: f.type,
    length: f.length,
    headers: f.headers.entries().map(([k, v]) => [k, v]),
    body: f.body.toString("hex"),
  };
}

type Outcome = { frames: ReturnType<typeof view>[]; error?: string };

/** Feeds `chunks` to a fresh parser, checking the buffer bound and the sticky failure as it goes. */
function feed(chunks: readonly Buffer[]): Outcome {
  const p = new FrameParser(LIMITS);
  const frames: ReturnType<typeof view>[] = [];
  for (const c of chunks) {
    try {
      for (const f of p.push(c)) frames.push(view(f));
    } catch (e) {
      if (!framingError(e)) throw e;
      const err = e as ProtocolParseError;
      assert.ok(err.message.length < 300, "error messages stay short (they quote the server)");
      // After an error the stream cannot be resynchronised: every later push fails the same way.
      assert.throws(
        () => p.push(Buffer.from("OUT 0 CON 0\r\n")),
        (again: unknown) => again === err,
      );
      assert.equal(p.buffered, 0, "a failed parser holds nothing");
      return { frames, error: err.code };
    }
    // Memory: never more than one frame's payload or one command line is held.
    assert.ok(
      p.buffered <= Math.max(LIMITS.maxFrameBytes, LIMITS.maxLineBytes + 1),
      `buffered ${p.buffered} bytes`,
    );
  }
  return { frames };
}

// ——— Targets ———

const roundTrip = defineTarget<{ frames: OutgoingFrame[]; cuts: number[] }>({
  name: "msnp frames: encode → parse round trip, any chunking",
  arbitrary: fc.record({ frames: fc.array(outgoingFrame, { minLength: 1, maxLength: 6 }), cuts }),
  check({ frames, cuts: at }) {
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f)));
    const parser = new FrameParser({ maxFrameBytes: 1 << 20 });
    const got: Frame[] = [];
    for (const c of chunk(wire, at)) got.push(...parser.push(c));
    assert.equal(parser.buffered, 0);
    assert.equal(got.length, frames.length);
    frames.forEach((f, i) => {
      const g = got[i]!;
      assert.equal(g.command, f.command);
      assert.equal(g.trid, f.trid);
      assert.equal(g.type, f.type);
      if (f.bare) {
        assert.equal(g.length, 0);
        return;
      }
      const want = typeof f.body === "string" ? Buffer.from(f.body, "utf8") : (f.body ?? Buffer.alloc(0));
      assert.equal(g.body.toString("hex"), want.toString("hex"), "body");
      assert.deepEqual(
        g.headers.entries().map(([k, v]) => [k, v]),
        [...(f.headers ?? [])].map(([k, v]) => [k, expectedValue(v)]),
        "top headers",
      );
    });
  },
});

/** Pieces a hostile or broken server might send, glued together at random. */
const wirePiece = fc.oneof(
  { weight: 4, arbitrary: outgoingFrame.map((f) => encodeFrame(f)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        "\r\n",
        "\r",
        "\n",
        "CNT 1 CON 5\r\n",
        "CNT 1 CON 99999999\r\n",
        "CNT 1 CON 513\r\n",
        "CNT 1 CON 512\r\n",
        "OUT 0 CON\r\n",
        "SDG 0 12\r\n",
        "911 3 0\r\n",
        "NFY 0 MSGR\\PUT 0\r\n",
        "X".repeat(63),
        "X".repeat(64),
        "X".repeat(65),
        "CNT 1 CON -1\r\n",
        "CNT 1 CON 1e3\r\n",
        "CNT  1   CON   2\r\n\r\n",
        "CNT 1 CON 0000000000000002\r\n",
        "ÄÖÜ 1 CON 0\r\n",
        "\u0000\u0001 1 X 0\r\n",
        // Valid command lines of 63, 64 (the limit) and 65 bytes, cut anywhere by the chunking.
        `CNT 1 ${"A".repeat(55)} 0\r\n`,
        `CNT 1 ${"A".repeat(56)} 0\r\n`,
        `CNT 1 ${"A".repeat(57)} 0\r\n`,
      )
      .map((s) => Buffer.from(s, "latin1")),
  },
);

const anyStream = defineTarget<{ pieces: Buffer[]; cuts: number[] }>({
  name: "msnp frames: arbitrary bytes, result independent of chunking",
  arbitrary: fc.record({ pieces: fc.array(wirePiece, { maxLength: 10 }), cuts }),
  check({ pieces, cuts: at }) {
    const wire = Buffer.concat(pieces);
    const whole = feed([wire]);
    const chunked = feed(chunk(wire, at));
    const bytewise = wire.length <= 512 ? feed(chunk(wire, [...wire.keys()])) : chunked;
    // The stream's meaning may not depend on how TCP cut it.
    assert.equal(chunked.error, whole.error, "same failure, whole or chunked");
    assert.equal(bytewise.error, whole.error, "same failure, whole or byte by byte");
    if (whole.error === undefined) {
      assert.deepEqual(chunked.frames, whole.frames);
      assert.deepEqual(bytewise.frames, whole.frames);
    }
  },
});

// ——— Multi-part bodies ———

const anyMultipart = defineTarget<Uint8Array>({
  name: "msnp multipart: arbitrary bytes never throw",
  arbitrary: fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc
      .array(
        fc.constantFrom(
          "Routing: 1.0\r\n",
          "Reliability: 1.0\r\n",
          "Messaging: 2.0\r\n",
          "Publication: 1.0\r\n",
          "Content-Length: 3\r\n",
          "Content-Length: 99999999999999999999\r\n",
          "Content-Length: -4\r\n",
          "X: y\r\n",
          "\r\n",
          "\r\n\r\n",
          "body",
          ":",
          "\u2028",
        ),
        { maxLength: 30 },
      )
      .map((a) => Buffer.from(a.join(""), "utf8")),
  ),
  check(input) {
    const buf = Buffer.from(input);
    const out = parseMultipart(buf);
    assert.ok(out.body.length <= buf.length);
    const declared = out.content.get("Content-Length");
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) <= buf.length) {
      assert.ok(out.body.length <= Number(declared), "Content-Length caps the body");
    }
  },
});

const extra = fc.array(
  fc.tuple(
    headerName.filter((n) => !BLOCK_NAMES.includes(n.toLowerCase()) && n.toLowerCase() !== "content-length"),
    headerValue,
  ),
  { maxLength: 4 },
);

const multipartRoundTrip = defineTarget<{
  routing: [string, string][];
  reliability: [string, string][];
  kind: string;
  content: [string, string][];
  body: string | Buffer;
  declared: number | undefined;
}>({
  name: "msnp multipart: build → parse round trip, lying Content-Length",
  arbitrary: fc.record({
    routing: extra,
    reliability: extra,
    kind: fc.constantFrom("Messaging", "Publication", "Notification", "messaging"),
    content: extra,
    body,
    declared: fc.option(fc.nat({ max: 100 }), { nil: undefined }),
  }),
  check(s) {
    const routing: [string, string][] = [["Routing", "1.0"], ...s.routing];
    const reliability: [string, string][] = [["Reliability", "1.0"], ...s.reliability];
    const content: [string, string][] = [[s.kind, "2.0"], ...s.content];
    if (s.declared !== undefined) content.push(["Content-Length", String(s.declared)]);
    const bytes = typeof s.body === "string" ? Buffer.from(s.body, "utf8") : s.body;
    const out = parseMultipart(buildMultipart({ routing, reliability, content, body: bytes }));
    const norm = (h: [string, string][]) => h.map(([k, v]) => [k, expectedValue(v)]);
    assert.deepEqual(
      out.routing.entries().map(([k, v]) => [k, v]),
      norm(routing),
    );
    assert.deepEqual(
      out.reliability.entries().map(([k, v]) => [k, v]),
      norm(reliability),
    );
    const wantContent = norm(content);
    if (s.declared === undefined) wantContent.push(["Content-Length", String(bytes.length)]);
    assert.deepEqual(
      out.content.entries().map(([k, v]) => [k, v]),
      wantContent,
    );
    assert.equal(out.contentKind?.toLowerCase(), s.kind.toLowerCase());
    const n = s.declared ?? bytes.length;
    assert.equal(out.body.toString("hex"), bytes.subarray(0, Math.min(n, bytes.length)).toString("hex"));
    assert.equal(out.lengthMismatch, n !== bytes.length);
  },
});

// ——— Pushes: what the session does with a pushed body (src/skype/msnp/session.ts handlePush) ———

const pushHeader = fc.oneof(
  fc.tuple(
    fc.constantFrom(
      "From", "To", "Message-Type", "Message-ID", "Client-Message-ID", "Skype-EditedId", "Skype-EmoteOffset",
      "IM-Display-Name", "Content-Type", "Original-Arrival-Time", "Content-Length",
    ),
    fc.oneof(
      headerValue,
      fc.constantFrom(
        "8:live:bob;epid={x}", "1:alice@hotmail.co.uk", "19:abc@thread.skype", "Text", "RichText",
        "Control/Typing", "ThreadActivity/AddMember", "Event/Call", "Signal/Flamingo", "x/y/z", "1",
        "99999999999999999999999999999", "-1", "\"3\"", "1000000",
      ),
    ),
  ),
); // prettier-ignore

const pushBody = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom(
    "<addmember><eventtime>1</eventtime><initiator>8:a</initiator><target>8:b</target></addmember>",
    "<user><s n='IM'><Status>NLN</Status></s><sep n='IM' epid='{e}'></sep></user>",
    "<threads><thread><id>19:a@thread.skype</id><members><member><mri>8:a</mri></member></members></thread></threads>",
    "<!DOCTYPE x [<!ENTITY e 'v'>]><user>&e;</user>",
    "<user>",
    "",
  ),
);

const self = new SelfIdentity("alice@hotmail.co.uk", "live:alice_1");

const pushes = defineTarget<{ routing: [string, string][]; content: [string, string][]; body: string }[]>({
  name: "msnp pushes: arbitrary SDG/NFY bodies become events or typed errors",
  arbitrary: fc.array(
    fc.record({
      routing: fc.array(pushHeader, { maxLength: 3 }),
      content: fc.array(pushHeader, { maxLength: 6 }),
      body: pushBody,
    }),
    { minLength: 1, maxLength: 5 },
  ),
  check(list) {
    const events: string[] = [];
    const receiver = new Receiver((event, ..._args) => void events.push(event), silentLogger);
    const presence = new PresenceTracker();
    const typed = (e: unknown): boolean => e instanceof SkypeError;
    for (const p of list) {
      const mm = parseMultipart(
        buildMultipart({
          routing: [["Routing", "1.0"], ...p.routing],
          content: [["Messaging", "2.0"], ...p.content],
          body: p.body,
        }),
      );
      const raw = rawFromPush(mm, self);
      if (raw) receiver.deliver(raw, "live");
      for (const removed of [false, true]) {
        try {
          presence.apply(mm, removed, (m) => self.isMe(m));
        } catch (e) {
          if (!typed(e)) throw e;
        }
      }
      for (const read of [parseThreads, parseThreadActivity]) {
        try {
          read(p.body);
        } catch (e) {
          if (!typed(e)) throw e;
        }
      }
    }
    assert.ok(events.length <= list.length, "at most one event per push");
  },
});

export const msnpTargets: SomeTarget[] = [roundTrip, anyStream, anyMultipart, multipartRoundTrip, pushes];
