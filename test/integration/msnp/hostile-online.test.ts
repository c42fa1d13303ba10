// SPDX-License-Identifier: Apache-2.0
/**
 * A server that lies after login (hostile.test.ts covers the login itself): the reference server
 * behind a lying proxy (lying-proxy.ts) that injects entity bombs, external entities, 10,000 nested
 * tags, unknown commands and event types, a 1 MB message, a frame over the limit, a 100 MB frame,
 * lengths that lie and slow-drip senders into alice's connection. Each case checks the typed error
 * (state or log line), that the connection is dropped only when the stream cannot be trusted any
 * more, that no message is lost, that bob (another client in this process, connected directly)
 * is unaffected, and prints peak RSS and heap growth.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { skypeToMatrix } from "../../../src/bridge/convert/index.js";
import { SkypeErrorCode } from "../../../src/skype/errors.js";
import { buildMultipart } from "../../../src/skype/msnp/body.js";
import { encodeFrame } from "../../../src/skype/msnp/framing.js";
import type { MsnpClient, MsnpState } from "../../../src/skype/msnp/index.js";
import { LyingProxy } from "./lying-proxy.js";
import { memoryLogger, next, online, startEnv, stateOf, until, type Env } from "./helpers.js";

const ALICE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const MALLORY = "8:live:mallory";
const MiB = 1024 * 1024;

let cmid = 1_000_000;

/** An `SDG` push from mallory to alice. No Message-ID: injected ids must not move alice's cursors. */
function sdg(messageType: string, body: string | Buffer, extra: [string, string][] = []): Buffer {
  return encodeFrame({
    command: "SDG",
    trid: 0,
    type: "MSGR",
    body: buildMultipart({
      routing: [
        ["Routing", "1.0"],
        ["To", ALICE],
        ["From", `${MALLORY};epid={00000000-0000-0000-0000-00000000beef}`],
      ],
      content: [
        ["Messaging", "2.0"],
        ["Client-Message-ID", String(cmid++)],
        ["Message-Type", messageType],
        [
          "Content-Type",
          messageType.startsWith("RichText") ? "application/user+xml" : "Text/plain; charset=UTF-8",
        ],
        ...extra,
      ],
      body,
    }),
  });
}

/** An `NFY` push of `type` with `body` (multi-part for presence, plain XML for threads). */
function nfy(type: string, body: string | Buffer): Buffer {
  return encodeFrame({ command: "NFY", trid: 0, type, body });
}

function presence(userXml: string): Buffer {
  return nfy(
    "MSGR\\PUT",
    buildMultipart({
      routing: [
        ["Routing", "1.0"],
        ["To", ALICE],
        ["From", `${MALLORY};epid={00000000-0000-0000-0000-00000000beef}`],
      ],
      content: [
        ["Publication", "1.0"],
        ["Uri", "/user"],
        ["Content-Type", "application/user+xml"],
      ],
      body: userXml,
    }),
  );
}

const LAUGHS =
  `<?xml version="1.0"?><!DOCTYPE threads [<!ENTITY l0 "lol">` +
  Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("") +
  `]><threads><thread><id>19:x@thread.skype</id><properties><topic>&l10;</topic></properties></thread></threads>`;

/** Samples RSS every 10 ms; `stop` gives peak RSS, its growth and the heap growth. */
function memoryProbe() {
  const start = process.memoryUsage();
  let peak = start.rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  timer.unref(); // a failed test must not keep the process alive
  return {
    stop() {
      clearInterval(timer);
      const end = process.memoryUsage();
      peak = Math.max(peak, end.rss);
      return { peakRss: peak, rssGrowth: peak - start.rss, heapGrowth: end.heapUsed - start.heapUsed };
    },
  };
}

const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

interface World {
  env: Env;
  proxy: LyingProxy;
  alice: MsnpClient;
  bob: MsnpClient;
  log: ReturnType<typeof memoryLogger>;
  /** Every state alice went through since `online`. */
  aliceStates: MsnpState[];
  /** Every state bob went through since `online`: must stay empty (bob is unaffected). */
  bobStates: MsnpState[];
  /** Bodies of every message alice received from bob. */
  fromBob: string[];
}

async function setup(t: TestContext, pingWait = 50): Promise<World> {
  const env = await startEnv(t, { pingWait });
  const proxy = new LyingProxy(env.port);
  const port = await proxy.listen();
  t.after(() => proxy.close());
  const log = memoryLogger();
  const alice = env.client("alice@hotmail.co.uk", { port, logger: log, requestTimeoutMs: 5_000 });
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(bob);
  const w: World = { env, proxy, alice, bob, log, aliceStates: [], bobStates: [], fromBob: [] };
  alice.on("message", (m) => m.sender === BOB && w.fromBob.push(m.body));
  alice.on("state", (s) => w.aliceStates.push(s));
  bob.on("state", (s) => w.bobStates.push(s));
  return w;
}

/** A real message from carol reaches bob: this process and bob's session are fine. */
async function bobUnaffected(w: World, text: string): Promise<void> {
  const got = next(w.bob, "message", (m) => m.body === text);
  w.env.server.sendMessage({ from: "carol@live.com", to: BOB, text });
  await got;
  assert.deepEqual(w.bobStates, [], "bob's connection never changed state");
}

/** A real message from bob reaches alice (through the proxy). */
async function aliceReceives(w: World, text: string): Promise<void> {
  const got = next(w.alice, "message", (m) => m.body === text && m.sender === BOB);
  w.env.server.sendMessage({ from: "bob@outlook.com", to: ALICE, text });
  await got;
}

/** Alice's connection stayed up through everything. */
function aliceStayedOnline(w: World): void {
  assert.deepEqual(w.aliceStates, [], "alice's connection was not dropped");
  assert.equal(w.alice.state.kind, "connected");
}

/** Waits for alice's connection to drop with `code`, then to come back and catch up. */
async function dropsThenRecovers(w: World, code: string, during?: () => void): Promise<void> {
  const back = next(w.alice, "caughtUp", () => true, 20_000);
  const s = await stateOf(w.alice, "transient_disconnect", 20_000);
  assert.equal(s.error?.code, code, s.error?.message);
  assert.ok(s.error && s.error.message.length < 300);
  during?.();
  await back;
  assert.equal(w.alice.state.kind, "connected");
}

function report(t: TestContext, probe: ReturnType<typeof memoryProbe>, maxHeapGrowth: number): void {
  const m = probe.stop();
  t.diagnostic(`peak RSS ${mib(m.peakRss)} (+${mib(m.rssGrowth)}), heap growth ${mib(m.heapGrowth)}`);
  assert.ok(m.rssGrowth < maxHeapGrowth * 2, `RSS grew by ${mib(m.rssGrowth)}`);
  assert.ok(m.heapGrowth < maxHeapGrowth, `heap grew by ${mib(m.heapGrowth)}`);
}

const warnings = (w: World, message: string) =>
  w.log.lines.filter((l) => l.level === "warn" && l.message === message);

test("unknown commands, notification types and message types are ignored or reported, nothing breaks", async (t) => {
  const w = await setup(t);
  const probe = memoryProbe();
  const unhandled: string[] = [];
  w.alice.on("unhandledMessage", (e) => unhandled.push(e.messageType));
  await w.proxy.current.inject(async (out) => {
    await out.write("XYZ 0 FOO 3\r\nabc");
    await out.write(nfy("MSGR\\SOMETHINGNEW", "<x/>"));
    await out.write(encodeFrame({ command: "CHG", trid: 0, type: "MSGR\\A\\B", bare: true }));
    await out.write("999 0 4\r\nwhat");
    await out.write(sdg("Event/Call", "<partlist/>"));
    await out.write(sdg("Signal/Flamingo", "{}"));
    await out.write(sdg("Poll/Whatever", ""));
  });
  await until(() => unhandled.length === 3, "three unhandledMessage events");
  assert.deepEqual(unhandled, ["Event/Call", "Signal/Flamingo", "Poll/Whatever"]);
  assert.ok(w.log.lines.some((l) => l.message === "msnp: unsolicited error from the server"));
  await aliceReceives(w, "after the unknown events");
  aliceStayedOnline(w);
  await bobUnaffected(w, "bob: unknown events");
  report(t, probe, 32 * MiB);
});

test("entity bombs and external entities in pushes: refused as UnsafeXml, nothing fetched, connection kept", async (t) => {
  const w = await setup(t);
  let fetched = 0;
  const evil = createServer((_req, res) => {
    fetched++;
    res.end("pwned");
  });
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => evil.close(() => r())));
  const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/x`;
  const probe = memoryProbe();
  const unhandled: string[] = [];
  w.alice.on("unhandledMessage", (e) => unhandled.push(e.messageType));
  await w.proxy.current.inject(async (out) => {
    await out.write(nfy("MSGR\\THREAD", LAUGHS));
    await out.write(
      presence(
        `<!DOCTYPE user [<!ENTITY x SYSTEM "${evilUrl}">]><user><s n="IM"><Status>&x;</Status></s></user>`,
      ),
    );
    await out.write(presence(`<!DOCTYPE user [<!ENTITY % p SYSTEM "${evilUrl}"> %p;]><user/>`));
    await out.write(
      sdg(
        "ThreadActivity/AddMember",
        `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><addmember><target>&e;</target></addmember>`,
      ),
    );
  });
  await until(() => warnings(w, "msnp: unreadable push").length === 3, "three unreadable pushes");
  await until(() => unhandled.length === 1, "the ThreadActivity as unhandledMessage");
  for (const l of [
    ...warnings(w, "msnp: unreadable push"),
    ...warnings(w, "msnp: unreadable ThreadActivity body"),
  ]) {
    assert.equal(l.context?.code, SkypeErrorCode.UnsafeXml, JSON.stringify(l));
  }
  assert.equal(fetched, 0, "no external entity was fetched");
  assert.ok(!JSON.stringify(w.log.lines).includes("root:"), "no file content anywhere");
  await aliceReceives(w, "after the entity bombs");
  aliceStayedOnline(w);
  await bobUnaffected(w, "bob: entity bombs");
  report(t, probe, 32 * MiB);
});

test("10,000 nested tags: the message arrives and converts in bounded time; nested XML is refused", async (t) => {
  const w = await setup(t);
  const probe = memoryProbe();
  const html = "<b>".repeat(10_000) + "deep" + "</b>".repeat(10_000);
  const got = next(w.alice, "message", (m) => m.sender === MALLORY);
  await w.proxy.current.inject(async (out) => {
    await out.write(sdg("RichText", html));
    await out.write(
      nfy(
        "MSGR\\THREAD",
        "<threads>" + "<thread>".repeat(10_000) + "</thread>".repeat(10_000) + "</threads>",
      ),
    );
  });
  const [m] = await got;
  assert.equal(m.body, html);
  const started = performance.now();
  const converted = skypeToMatrix({ type: "richtext", body: m.body });
  const ms = performance.now() - started;
  t.diagnostic(`skypeToMatrix of 10,000 nested tags: ${ms.toFixed(0)} ms`);
  assert.equal(converted.body, "deep");
  assert.ok(ms < 2_000);
  await until(() => warnings(w, "msnp: unreadable push").length === 1, "the nested thread push refused");
  assert.equal(warnings(w, "msnp: unreadable push")[0]!.context?.code, SkypeErrorCode.UnsafeXml);
  aliceStayedOnline(w);
  await bobUnaffected(w, "bob: nesting");
  report(t, probe, 32 * MiB);
});

test("a 1 MB message is delivered whole; one byte over the frame limit drops the connection, not the process", async (t) => {
  const w = await setup(t);
  const probe = memoryProbe();
  const big = "é".repeat(250_000) + "x".repeat(500_000); // 1,000,000 bytes of UTF-8
  const got = next(w.alice, "message", (m) => m.sender === MALLORY);
  await w.proxy.current.inject((out) => out.write(sdg("Text", big)).then(() => undefined));
  const [m] = await got;
  assert.equal(Buffer.byteLength(m.body), 1_000_000);
  assert.equal(m.body, big);
  const converted = skypeToMatrix({ type: "text", body: m.body });
  assert.equal(converted.body.length, big.length);
  aliceStayedOnline(w);

  // The frame limit is 1 MiB of payload: 1 MiB + 1 is refused from its command line alone.
  await w.proxy.current.inject((out) => out.write(`SDG 0 MSGR ${MiB + 1}\r\n`).then(() => undefined));
  await dropsThenRecovers(w, SkypeErrorCode.MsnpFraming, () =>
    w.env.server.sendMessage({ from: "bob@outlook.com", to: ALICE, text: "sent while alice was away" }),
  );
  await until(
    () =>
      w.log.lines.some(
        (l) => l.level === "error" && /exceeds the 1048576-byte limit/.test(String(l.context?.error)),
      ),
    "the framing error in the log",
  );
  await aliceReceives(w, "after the reconnect");
  assert.ok(w.fromBob.includes("sent while alice was away"), "caught up after the reconnect");
  await bobUnaffected(w, "bob: 1 MB");
  report(t, probe, 64 * MiB);
});

test("a 100 MB frame is refused at its command line; the client stops reading at once", async (t) => {
  const w = await setup(t);
  const probe = memoryProbe();
  let written = 0;
  const link = w.proxy.current;
  await link.inject(async (out) => {
    await out.write(`SDG 0 MSGR ${100 * MiB}\r\n`);
    written = await out.flood(100 * MiB);
  });
  await dropsThenRecovers(w, SkypeErrorCode.MsnpFraming);
  t.diagnostic(`the lying server got ${mib(written)} of 100 MiB into the socket before it was closed`);
  assert.ok(written < 32 * MiB, `${mib(written)} written`);
  await aliceReceives(w, "after the 100 MB frame");
  await bobUnaffected(w, "bob: 100 MB");
  report(t, probe, 32 * MiB);
});

test("a length that lies (too long) swallows the next frame: dropped, reconnected, the real message not lost", async (t) => {
  const w = await setup(t);
  const probe = memoryProbe();
  const partial = `\r\nRouting: 1.0\r\nTo: ${ALICE}\r\nFrom: ${MALLORY}\r\n\r\n`;
  // The real server's next frame ends up inside the lie (its first 50 bytes); the rest of it
  // breaks the framing.
  const lie = `SDG 0 MSGR ${Buffer.byteLength(partial) + 50}\r\n${partial}`;
  await w.proxy.current.inject((out) => out.write(lie).then(() => undefined));
  const got = next(
    w.alice,
    "message",
    (m) => m.body === "swallowed, then caught up" && m.sender === BOB,
    20_000,
  );
  w.env.server.sendMessage({ from: "bob@outlook.com", to: ALICE, text: "swallowed, then caught up" });
  await dropsThenRecovers(w, SkypeErrorCode.MsnpFraming);
  await got;
  // Exactly once: whether caught up from history or pushed again by the server after the reconnect.
  await aliceReceives(w, "after the long lie");
  assert.equal(w.fromBob.filter((b) => b === "swallowed, then caught up").length, 1);
  await bobUnaffected(w, "bob: long lie");
  report(t, probe, 32 * MiB);
});

test("a length that lies (too short) is a framing error: dropped and reconnected", async (t) => {
  const w = await setup(t);
  const probe = memoryProbe();
  const frame = sdg("Text", "the length of this frame says 5");
  const honest = frame.toString("utf8");
  const lie = honest.replace(/^SDG 0 MSGR \d+/, "SDG 0 MSGR 5");
  await w.proxy.current.inject((out) => out.write(lie).then(() => undefined));
  await dropsThenRecovers(w, SkypeErrorCode.MsnpFraming);
  await aliceReceives(w, "after the short lie");
  await bobUnaffected(w, "bob: short lie");
  report(t, probe, 32 * MiB);
});

test("a Content-Length that lies inside a frame: the frame's bytes win, the connection stays", async (t) => {
  const w = await setup(t);
  const got: string[] = [];
  w.alice.on("message", (m) => m.sender === MALLORY && got.push(m.body));
  await w.proxy.current.inject(async (out) => {
    await out.write(sdg("Text", "hello", [["Content-Length", "99999"]]));
    await out.write(sdg("Text", "truncated", [["Content-Length", "5"]]));
  });
  await until(() => got.length === 2, "both messages");
  assert.deepEqual(got, ["hello", "trunc"]);
  aliceStayedOnline(w);
  await bobUnaffected(w, "bob: content-length");
});

test("a slow-drip sender: a dripped frame arrives whole while others carry on; an endless drip is cut off by keepalive", async (t) => {
  const w = await setup(t, 1);
  const probe = memoryProbe();
  const frame = sdg("Text", "dripped, byte by byte");
  const got = next(w.alice, "message", (m) => m.body === "dripped, byte by byte", 30_000);
  const dripping = w.proxy.current.inject((out) => out.drip(frame, 4, 5).then(() => undefined));
  // While alice's stream is held by the drip, bob's session and this process carry on.
  await bobUnaffected(w, "bob: during the drip");
  await dripping;
  await got;

  // An endless drip: a frame of 1 MiB sent 16 bytes every 20 ms (about 22 minutes). Its PNG
  // replies are stuck behind it, so keepalive gives up after two missed replies.
  const started = Date.now();
  void w.proxy.current.inject(async (out) => {
    await out.write(`SDG 0 MSGR ${MiB}\r\n`);
    await out.drip(Buffer.alloc(MiB, 0x41), 16, 20);
  });
  await dropsThenRecovers(w, SkypeErrorCode.Network);
  t.diagnostic(`the endless drip was cut off after ${Date.now() - started} ms`);
  assert.ok(
    w.log.lines.some((l) => l.message === "msnp: two keepalive replies missed, dropping the connection"),
  );
  await aliceReceives(w, "after the drip");
  await bobUnaffected(w, "bob: after the drip");
  report(t, probe, 32 * MiB);
});
