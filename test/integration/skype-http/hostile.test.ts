// The client against deliberately hostile or broken servers (plain node:http on 127.0.0.1:0):
// entity expansion, oversized bodies, malformed WBXML, unknown pages, SOAP header handling, timeouts.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { AddressBookClient } from "../../../src/skype/soap/address-book.js";
import { ContactSync } from "../../../src/skype/activesync/contact-sync.js";
import { CodePage } from "../../../src/skype/activesync/code-pages.js";
import { encodeWbxml, wb } from "../../../src/skype/activesync/wbxml.js";
import { passwordSignIn } from "../../../src/skype/auth/password.js";
import {
  ActiveSyncStatusError,
  AuthError,
  ProtocolParseError,
  SkypeError,
  SkypeErrorCode,
} from "../../../src/skype/errors.js";
import type { SkypeEndpoints } from "../../../src/skype/model.js";
import type { TokenSource } from "../../../src/skype/tokens.js";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(
  t: TestContext,
  handler: Handler,
): Promise<{ url: string; endpoints: SkypeEndpoints; dispatcher: Agent }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const dispatcher = new Agent();
  t.after(async () => {
    await dispatcher.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    dispatcher,
    endpoints: {
      login: url,
      api: url,
      skype_login: url,
      abch: url,
      activesync: url,
      msnp: "127.0.0.1:9",
      msnpTls: false,
    },
  };
}

function fakeTokens(): TokenSource & { invalidated: number } {
  return {
    invalidated: 0,
    getToken: () => Promise.resolve("EwA+fake/token="),
    invalidate() {
      this.invalidated++;
    },
  };
}

const LAUGHS =
  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
  Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`,
  ).join("") +
  `]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol9;</soap:Body></soap:Envelope>`;

const unsafe = (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.UnsafeXml;

test("an entity-expansion answer is refused in bounded memory", async (t) => {
  const env = await serve(t, (_req, _body, res) => {
    res.writeHead(200, { "content-type": "text/xml" }).end(LAUGHS);
  });
  const book = new AddressBookClient(env.endpoints, fakeTokens(), { dispatcher: env.dispatcher });
  const before = process.memoryUsage().heapUsed;
  await assert.rejects(book.findBlockedContacts(), unsafe);
  assert.ok(process.memoryUsage().heapUsed - before < 32 * 1024 * 1024);
});

test("SOAP answers with a forbidden character or 10,000 nested elements are UnsafeXml, as over MSNP", async (t) => {
  const soap = (inner: string): string =>
    `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
    `<soap:Body>${inner}</soap:Body></soap:Envelope>`;
  const answers = [soap("<x>\u0001</x>"), soap("<x>".repeat(10_000) + "</x>".repeat(10_000))];
  let n = 0;
  const env = await serve(t, (_req, _body, res) => {
    res.writeHead(200, { "content-type": "text/xml" }).end(answers[n++ % answers.length]);
  });
  const book = new AddressBookClient(env.endpoints, fakeTokens(), { dispatcher: env.dispatcher });
  await assert.rejects(book.findBlockedContacts(), unsafe);
  await assert.rejects(book.findBlockedContacts(), unsafe);
  assert.equal(n, 2);
});

test("external and parameter entities in a SOAP answer are refused and never fetched", async (t) => {
  let fetched = 0;
  const env = await serve(t, (req, _body, res) => {
    if (req.url?.startsWith("/evil")) {
      fetched++;
      return void res.writeHead(200).end('<!ENTITY x "pwned">');
    }
    const host = req.headers.host!;
    const doctype = req.url?.includes("SharingService")
      ? `<!DOCTYPE soap:Envelope [<!ENTITY % p SYSTEM "http://${host}/evil.dtd"> %p;]>`
      : `<!DOCTYPE soap:Envelope [<!ENTITY x SYSTEM "http://${host}/evil">]>`;
    res
      .writeHead(200, { "content-type": "text/xml" })
      .end(
        `<?xml version="1.0"?>${doctype}<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
          `<soap:Body>&x;</soap:Body></soap:Envelope>`,
      );
  });
  const book = new AddressBookClient(env.endpoints, fakeTokens(), { dispatcher: env.dispatcher });
  await assert.rejects(book.findBlockedContacts(), unsafe);
  await assert.rejects(book.findPendingRequests(), unsafe);
  assert.equal(fetched, 0, "the client never fetched an external entity");
});

test("a slow-drip answer is cut off by the whole-request timeout, not by the gap between bytes", async (t) => {
  const timers = new Set<NodeJS.Timeout>();
  t.after(() => timers.forEach((x) => clearInterval(x)));
  const env = await serve(t, (_req, _body, res) => {
    res.writeHead(200, { "content-type": "text/xml" });
    const text = Buffer.from(
      `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
        `<soap:Body>${"<x/>".repeat(1000)}</soap:Body></soap:Envelope>`,
    );
    let i = 0;
    // A byte every 10 ms: never idle long enough for an idle timeout, done only after ~45 s.
    const timer = setInterval(() => {
      if (res.destroyed || i >= text.length) return void (clearInterval(timer), res.end());
      res.write(text.subarray(i, ++i));
    }, 10);
    timers.add(timer);
  });
  const book = new AddressBookClient(env.endpoints, fakeTokens(), {
    dispatcher: env.dispatcher,
    timeoutMs: 500,
  });
  const started = Date.now();
  const heapBefore = process.memoryUsage().heapUsed;
  await assert.rejects(
    book.findBlockedContacts(),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.Network && e.retryable,
  );
  const ms = Date.now() - started;
  t.diagnostic(
    `cut off after ${ms} ms; heap growth ${((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toFixed(1)} MiB`,
  );
  assert.ok(ms < 3_000, `took ${ms} ms`);
});

test("a Content-Length that lies: too long is a Network error, too short a Parse error, no crash", async (t) => {
  const envelope =
    `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
    `<soap:Body><FindAllBlockedContactsResponse/></soap:Body></soap:Envelope>`;
  let n = 0;
  const env = await serve(t, (_req, _body, res) => {
    n++;
    // Raw bytes on the socket: node:http would refuse to send a wrong length itself.
    const declared = n === 1 ? envelope.length + 5000 : 40;
    res.socket!.end(
      `HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: ${declared}\r\n\r\n${envelope}`,
    );
  });
  const book = new AddressBookClient(env.endpoints, fakeTokens(), {
    dispatcher: env.dispatcher,
    timeoutMs: 2_000,
  });
  await assert.rejects(
    book.findBlockedContacts(),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.Network,
  );
  await assert.rejects(
    book.findBlockedContacts(),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Parse,
  );
  assert.equal(n, 2);
});

test("an endless answer is cut off at the size limit without buffering it", async (t) => {
  let sent = 0;
  const env = await serve(t, (_req, _body, res) => {
    res.writeHead(200, { "content-type": "text/xml" });
    const chunk = Buffer.alloc(64 * 1024, "a");
    const pump = (): void => {
      while (sent < 512 * 1024 * 1024 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.write("<x>");
    pump();
  });
  const book = new AddressBookClient(env.endpoints, fakeTokens(), {
    dispatcher: env.dispatcher,
    maxXmlBytes: 1024 * 1024,
  });
  const before = process.memoryUsage().heapUsed;
  await assert.rejects(book.findPendingRequests(), unsafe);
  assert.ok(process.memoryUsage().heapUsed - before < 64 * 1024 * 1024);
  assert.ok(sent < 512 * 1024 * 1024, "the client stopped reading");
});

test("malformed WBXML from ActiveSync is a typed Wbxml error", async (t) => {
  const env = await serve(t, (_req, _body, res) => {
    res
      .writeHead(200, { "content-type": "application/vnd.ms-sync.wbxml" })
      .end(Buffer.from([3, 1, 0x6a, 0, 0x56, 0x4c, 0x03, 0x31]));
  });
  const sync = new ContactSync(env.endpoints, fakeTokens(), { dispatcher: env.dispatcher });
  await assert.rejects(
    sync.syncAll(),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Wbxml,
  );
});

test("a server that refuses every sync key ends in ActiveSyncStatusError, not a loop", async (t) => {
  const FH = CodePage.FolderHierarchy;
  const AS = CodePage.AirSync;
  const SP = CodePage.SkypePrivate;
  let requests = 0;
  const env = await serve(t, (req, _body, res) => {
    requests++;
    const isFolderSync = Buffer.from(req.url!.split("?")[1]!, "base64")[1] === 9;
    const doc = isFolderSync
      ? wb(
          FH,
          "FolderSync",
          wb(FH, "Status", "1"),
          wb(FH, "SyncKey", "f1"),
          wb(
            FH,
            "Changes",
            wb(
              FH,
              "Add",
              wb(FH, "ServerId", "7"),
              wb(FH, "DisplayName", "Skype Contacts"),
              wb(FH, "Type", "14"),
              wb(SP, "PropertyBag", wb(SP, "Property", wb(SP, "Name", "SID"), wb(SP, "Value", "SKYPE"))),
            ),
          ),
        )
      : wb(
          AS,
          "Sync",
          wb(AS, "Collections", wb(AS, "Collection", wb(AS, "CollectionId", "7"), wb(AS, "Status", "3"))),
        );
    res.writeHead(200).end(Buffer.from(encodeWbxml(doc)));
  });
  const sync = new ContactSync(env.endpoints, fakeTokens(), { dispatcher: env.dispatcher, maxRestarts: 2 });
  await assert.rejects(
    sync.syncAll(),
    (e: unknown) => e instanceof ActiveSyncStatusError && e.status === 3 && e.command === "Sync",
  );
  assert.equal(requests, 1 + 3);
});

test("ActiveSync sends the base64 query and RPSToken; a refused token is renewed once", async (t) => {
  const seen: { query: string; auth: string | undefined; type: string | undefined }[] = [];
  const env = await serve(t, (req, _body, res) => {
    seen.push({
      query: req.url!.split("?")[1]!,
      auth: req.headers.authorization,
      type: req.headers["content-type"],
    });
    if (seen.length === 1) return void res.writeHead(401).end();
    res
      .writeHead(200)
      .end(
        Buffer.from(
          encodeWbxml(
            wb(
              CodePage.FolderHierarchy,
              "FolderSync",
              wb(CodePage.FolderHierarchy, "Status", "1"),
              wb(CodePage.FolderHierarchy, "SyncKey", "k"),
            ),
          ),
        ),
      );
  });
  const tokens = fakeTokens();
  const sync = new ContactSync(env.endpoints, tokens, {
    dispatcher: env.dispatcher,
    deviceId: "Skype-3026547794",
  });
  assert.deepEqual(await sync.syncAll(), []);
  assert.equal(tokens.invalidated, 1);
  assert.equal(seen[1]!.query, "jAkJBBBTa3lwZS0zMDI2NTQ3Nzk0AAxDbGFzc2ljU2t5cGU=");
  assert.equal(seen[1]!.auth, "RPSToken EwA+fake/token=");
  assert.equal(seen[1]!.type, "application/vnd.ms-sync.wbxml");
});

test("sign-in: an unknown page, a page without a form, and a refused form are typed", async (t) => {
  let mode = "unknown";
  const env = await serve(t, (req, _body, res) => {
    if (req.method === "GET" && mode === "noform")
      return void res.writeHead(200).end("<html>maintenance</html>");
    if (req.method === "GET") {
      return void res
        .writeHead(200, { "set-cookie": "MSPOK=$uuid-1; path=/; secure" })
        .end(
          `<form action="/ppsecure/post.srf?x=1&amp;y=2"><input type="hidden" name="PPFT" value="p1"></form>`,
        );
    }
    if (mode === "unknown") return void res.writeHead(200).end("<html>Something else entirely</html>");
    res.writeHead(400).end("bad request");
  });
  const opts = { dispatcher: env.dispatcher };
  await assert.rejects(
    passwordSignIn(env.endpoints, "a@b.c", "pw", opts),
    (e: unknown) => e instanceof AuthError && e.code === SkypeErrorCode.UnknownPage,
  );
  mode = "noform";
  await assert.rejects(
    passwordSignIn(env.endpoints, "a@b.c", "pw", opts),
    (e: unknown) => e instanceof AuthError && e.code === SkypeErrorCode.UnknownPage,
  );
  mode = "refuse";
  await assert.rejects(
    passwordSignIn(env.endpoints, "a@b.c", "pw", opts),
    (e: unknown) =>
      e instanceof SkypeError && e.code === SkypeErrorCode.HttpStatus && !e.message.includes("pw"),
  );
});

test("ABCH: CacheKey echoed after CacheKeyChanged, PreferredHostName followed, SOAPAction sent", async (t) => {
  const NS = "http://www.msn.com/webservices/AddressBook";
  const seen: { host: string; action: string | undefined; body: string }[] = [];
  const reply = (preferred: string) => (req: IncomingMessage, body: string, res: ServerResponse) => {
    seen.push({ host: req.headers.host!, action: req.headers.soapaction as string | undefined, body });
    res
      .writeHead(200, { "content-type": "text/xml" })
      .end(
        `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
          `<ServiceHeader xmlns="${NS}"><Version>1</Version><CacheKey>ck-${seen.length}</CacheKey><CacheKeyChanged>${seen.length === 1}</CacheKeyChanged>` +
          `<PreferredHostName>${preferred}</PreferredHostName></ServiceHeader></soap:Header><soap:Body>` +
          `<FindAllBlockedContactsResponse xmlns="${NS}"><FindAllBlockedContactsResult/></FindAllBlockedContactsResponse></soap:Body></soap:Envelope>`,
      );
  };
  const second = await serve(t, reply("")); // answers when the client followed the host
  const secondHost = new URL(second.url).host;
  const first = await serve(t, reply(secondHost));
  const book = new AddressBookClient(first.endpoints, fakeTokens(), { dispatcher: first.dispatcher });
  await book.findBlockedContacts();
  await book.findBlockedContacts();
  assert.equal(seen.length, 2);
  assert.equal(seen[0]!.action, `${NS}/FindAllBlockedContacts`);
  assert.ok(!seen[0]!.body.includes("<CacheKey>"));
  assert.equal(seen[1]!.host, secondHost, "the second call went to the preferred host");
  assert.ok(seen[1]!.body.includes("<CacheKey>ck-1</CacheKey>"), "the changed CacheKey is echoed");
  assert.deepEqual(book.exportState(), {
    cacheKeys: { ab: "ck-1" },
    preferredHosts: { FindAllBlockedContacts: secondHost },
  });
});

test("5xx, refused connections and silence are retryable Network errors", async (t) => {
  const env = await serve(t, (req, _body, res) => {
    if (req.url?.includes("SharingService")) return; // never answers
    res.writeHead(503).end("busy");
  });
  const retryable = (e: unknown) =>
    e instanceof SkypeError && e.code === SkypeErrorCode.Network && e.retryable;
  const book = new AddressBookClient(env.endpoints, fakeTokens(), {
    dispatcher: env.dispatcher,
    timeoutMs: 300,
  });
  await assert.rejects(book.findBlockedContacts(), retryable);
  await assert.rejects(book.findPendingRequests(), retryable);
  const closed = await serve(t, () => undefined);
  const deadUrl = closed.url.replace(/:\d+$/, ":1");
  const dead = new AddressBookClient({ abch: deadUrl }, fakeTokens(), { dispatcher: env.dispatcher });
  await assert.rejects(dead.findBlockedContacts(), retryable);
});

test("an aborted call is Aborted, not retryable", async (t) => {
  const env = await serve(t, () => undefined);
  const book = new AddressBookClient(env.endpoints, fakeTokens(), { dispatcher: env.dispatcher });
  const ac = new AbortController();
  const p = book.findBlockedContacts(ac.signal);
  ac.abort();
  await assert.rejects(
    p,
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.Aborted && !e.retryable,
  );
});
