// SPDX-License-Identifier: Apache-2.0
// The media repository client against a local HTTP server playing an older or a newer homeserver.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { test, type TestContext } from "node:test";
import {
  MatrixMedia,
  MatrixMediaErrorCode,
  type MatrixMediaError,
} from "../../../../src/bridge/matrix/media.js";

interface Seen {
  method: string;
  url: string;
  auth?: string;
  body: string;
}

async function homeserver(
  t: TestContext,
  answer: (req: IncomingMessage, body: string) => [number, string | Buffer, Record<string, string>?],
): Promise<{ media: MatrixMedia; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const [status, out, headers] = answer(req, body);
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { media: new MatrixMedia({ homeserverUrl: () => url, token: () => "AS_TOKEN" }), seen };
}

const UNRECOGNIZED = JSON.stringify({ errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });

void test("an older homeserver: legacy config and download after M_UNRECOGNIZED", async (t) => {
  const { media, seen } = await homeserver(t, (req) => {
    if (req.url!.startsWith("/_matrix/client/v1/")) return [404, UNRECOGNIZED];
    if (req.url === "/_matrix/media/v3/config") return [200, JSON.stringify({ "m.upload.size": 1234 })];
    if (req.url!.startsWith("/_matrix/media/v3/download/example.org/abc"))
      return [200, Buffer.from("hello"), { "content-type": "text/plain", "content-length": "5" }];
    return [500, "{}"];
  });
  assert.equal(await media.uploadLimit(), 1234);
  assert.equal(await media.uploadLimit(), 1234, "cached");
  const dl = await media.download("@bot:example.org", "mxc://example.org/abc", 100);
  assert.equal(dl.contentType, "text/plain");
  assert.equal(dl.size, 5);
  const chunks: Buffer[] = [];
  for await (const c of dl.body) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "hello");
  assert.deepEqual(
    seen.map((s) => s.url.split("?")[0]),
    [
      "/_matrix/client/v1/media/config",
      "/_matrix/media/v3/config",
      "/_matrix/client/v1/media/download/example.org/abc",
      "/_matrix/media/v3/download/example.org/abc",
    ],
  );
  assert.ok(seen.every((s) => s.auth === "Bearer AS_TOKEN"));
});

void test("authenticated media first; missing content, oversize and refused uploads are typed", async (t) => {
  const { media, seen } = await homeserver(t, (req, body) => {
    if (req.url === "/_matrix/client/v1/media/config") return [200, "{}"];
    if (req.url!.startsWith("/_matrix/client/v1/media/download/example.org/big"))
      return [200, Buffer.alloc(50), { "content-length": "50" }];
    if (req.url!.startsWith("/_matrix/client/v1/media/download/"))
      return [404, JSON.stringify({ errcode: "M_NOT_FOUND" })];
    if (req.url!.startsWith("/_matrix/media/v3/upload"))
      return body.length > 3
        ? [413, JSON.stringify({ errcode: "M_TOO_LARGE" })]
        : [200, JSON.stringify({ content_uri: "mxc://example.org/new" })];
    return [500, "{}"];
  });
  assert.equal(await media.uploadLimit(), 100 * 1024 * 1024, "no m.upload.size: the default");
  const code = (c: string) => (e: MatrixMediaError) => e.code === c;
  await assert.rejects(
    media.download("@b:x", "mxc://example.org/nope", 10),
    code(MatrixMediaErrorCode.NotFound),
  );
  await assert.rejects(
    media.download("@b:x", "mxc://example.org/big", 10),
    code(MatrixMediaErrorCode.TooLarge),
  );
  await assert.rejects(
    media.download("@b:x", "https://example.org/x", 10),
    code(MatrixMediaErrorCode.NotFound),
  );
  const mxc = await media.upload("@p:x", Readable.from([Buffer.from("abc")]), {
    contentType: "text/plain",
    filename: "a b.txt",
  });
  assert.equal(mxc, "mxc://example.org/new");
  const up = seen.find((s) => s.url.startsWith("/_matrix/media/v3/upload"))!;
  assert.match(up.url, /user_id=%40p%3Ax/);
  assert.match(up.url, /filename=a(\+|%20)b\.txt/);
  await assert.rejects(
    media.upload("@p:x", Readable.from([Buffer.from("abcdef")]), { contentType: "text/plain" }),
    code(MatrixMediaErrorCode.TooLarge),
  );
  assert.ok(
    !seen.some((s) => s.url.startsWith("/_matrix/media/v3/download")),
    "no legacy download on M_NOT_FOUND",
  );
});
