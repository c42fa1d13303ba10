import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { MsnpClient } from "../../../src/skype/msnp/index.js";
import { SkypeErrorCode } from "../../../src/skype/errors.js";
import { memoryLogger, stateOf } from "./helpers.js";

const creds = {
  email: "alice@hotmail.co.uk",
  skypename: "live:alice_1",
  getTicket: () => Promise.resolve("EwAsecret+/="),
  getUic: () => Promise.resolve("UICsecret=="),
};

function frame(head: string, payload: string): string {
  return `${head} ${Buffer.byteLength(payload)}\r\n${payload}`;
}

/** A raw server: `onData` gets each chunk the client sends and may write anything back. */
async function rawServer(
  t: { after(fn: () => Promise<void>): void },
  onData: (sock: net.Socket, text: string) => void,
) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
    sock.on("data", (d) => onData(sock, d.toString("utf8")));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** "Billion laughs": ten levels of ten references, 10¹⁰ "lol"s if anything ever expanded them. */
const LAUGHS =
  `<!DOCTYPE c [<!ENTITY l0 "lol">` +
  Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("") +
  `]><connect-response><nonce>&l10;</nonce></connect-response>`;

const unhandled: unknown[] = [];
process.on("unhandledRejection", (e) => unhandled.push(e));

const loginReplies = (sock: net.Socket, text: string): boolean => {
  const trid = /^([A-Z]{3}) (\d+)/.exec(text);
  if (!trid) return false;
  const [, cmd, n] = trid;
  if (cmd === "CNT")
    sock.write(frame(`CNT ${n} CON`, "\r\n<connect-response><nonce>n1</nonce></connect-response>"));
  else if (cmd === "ATH") sock.write(frame(`ATH ${n} CON`, "\r\n<auth-response/>"));
  else if (cmd === "BND") sock.write(frame(`BND ${n} CON`, "Set-Registration: R\r\n\r\n"));
  else return false;
  return true;
};

const cases: {
  name: string;
  reply: (sock: net.Socket, text: string) => void;
  code: string;
  level: string;
}[] = [
  {
    name: "a garbage line",
    reply: (s) => s.write("HELLO WORLD\r\n"),
    code: SkypeErrorCode.MsnpFraming,
    level: "error",
  },
  {
    name: "an oversize frame",
    reply: (s) => s.write("CNT 1 CON 999999999\r\n"),
    code: SkypeErrorCode.MsnpFraming,
    level: "error",
  },
  {
    name: "a wrong (too short) length",
    reply: (s) => s.write("CNT 1 CON 5\r\n\r\n<connect-response><nonce>x</nonce></connect-response>\r\n"),
    code: SkypeErrorCode.MsnpFraming,
    level: "error",
  },
  {
    name: "binary noise",
    reply: (s) => s.write(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a])),
    code: SkypeErrorCode.MsnpFraming,
    level: "error",
  },
  {
    name: "a reply that is not XML",
    reply: (s) => s.write(frame("CNT 1 CON", "\r\n<connect-response><nonce>x</connect-response>")),
    code: SkypeErrorCode.Parse,
    level: "error",
  },
  {
    name: "unsafe XML",
    reply: (s) => s.write(frame("CNT 1 CON", '\r\n<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')),
    code: SkypeErrorCode.UnsafeXml,
    level: "error",
  },
  {
    name: "XML with a control character",
    reply: (s) =>
      s.write(frame("CNT 1 CON", "\r\n<connect-response><nonce>x\u0001</nonce></connect-response>")),
    code: SkypeErrorCode.UnsafeXml,
    level: "error",
  },
  {
    name: "XML nested 10,000 deep",
    reply: (s) => s.write(frame("CNT 1 CON", "\r\n" + "<a>".repeat(10_000) + "</a>".repeat(10_000))),
    code: SkypeErrorCode.UnsafeXml,
    level: "error",
  },
  {
    name: "a malformed frame after login",
    reply: (s, text) => {
      if (!loginReplies(s, text) && text.startsWith("PUT")) s.write("PUT 4 MSGR twelve\r\n");
    },
    code: SkypeErrorCode.MsnpFraming,
    level: "error",
  },
  {
    name: "a billion laughs in the reply",
    reply: (s) => s.write(frame("CNT 1 CON", `\r\n${LAUGHS}`)),
    code: SkypeErrorCode.UnsafeXml,
    level: "error",
  },
  {
    name: "an external entity (XXE) in the reply",
    reply: (s) =>
      s.write(
        frame(
          "CNT 1 CON",
          '\r\n<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><connect-response><nonce>&x;</nonce></connect-response>',
        ),
      ),
    code: SkypeErrorCode.UnsafeXml,
    level: "error",
  },
  {
    // One byte every 20 ms: the reply would take seconds; the request timeout (300 ms) ends it.
    name: "a slow-drip reply",
    reply: (s) => {
      const bytes = Buffer.from(
        frame("CNT 1 CON", "\r\n<connect-response><nonce>n1</nonce></connect-response>"),
      );
      let i = 0;
      const timer = setInterval(() => {
        if (s.destroyed || i >= bytes.length) return clearInterval(timer);
        s.write(bytes.subarray(i, ++i));
      }, 20);
    },
    code: SkypeErrorCode.Network,
    level: "warn",
  },
  { name: "a server that never answers", reply: () => {}, code: SkypeErrorCode.Network, level: "warn" },
];

for (const c of cases) {
  test(`hostile server: ${c.name} → error state and a log line, no crash`, async (t) => {
    const port = await rawServer(t, c.reply);
    const log = memoryLogger();
    const client = new MsnpClient({
      host: "127.0.0.1",
      port,
      credentials: creds,
      logger: log,
      requestTimeoutMs: 300,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    t.after(() => client.stop());
    const heapBefore = process.memoryUsage().heapUsed;
    client.start();
    const s = await stateOf(client, "transient_disconnect");
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    t.diagnostic(
      `heap growth ${(heapGrowth / 2 ** 20).toFixed(1)} MiB, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.ok(heapGrowth < 32 * 2 ** 20);
    assert.equal(s.error?.code, c.code, s.error?.message);
    assert.ok(s.retryAt > Date.now());
    const line = log.lines.find((l) => l.level === c.level && l.message.startsWith("msnp: disconnected"));
    assert.ok(line, `a ${c.level} line: ${JSON.stringify(log.lines)}`);
    const all = JSON.stringify(log.lines);
    assert.ok(!all.includes("EwAsecret") && !all.includes("UICsecret"), "no secret in the logs");
    assert.deepEqual(unhandled, []);
  });
}

test("connection refused → transient_disconnect with a retry time", async (t) => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const now = 5000;
  const client = new MsnpClient({
    host: "127.0.0.1",
    port,
    credentials: creds,
    random: () => 1,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    clock: {
      now: () => now,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  });
  t.after(() => client.stop());
  client.start();
  const s = await stateOf(client, "transient_disconnect");
  assert.equal(s.retryAt, 65_000);
  assert.equal(s.error?.code, SkypeErrorCode.Network);
});
