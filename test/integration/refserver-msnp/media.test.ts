// SPDX-License-Identifier: Apache-2.0
// PROFILE §7.3–§7.5 on the reference server over real sockets: images and files in messages (sent
// through the control API and by a client), hostile raw messages, quotes, and read state
// (consumption horizons: routing, storage, RECENTCONVERSATIONS).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { startReferenceServer, type RunningReferenceServer } from "../../../refserver/index.js";
import { blocks, signIn, type RawFrame, type Session, type SignInOptions } from "./raw-client.js";

interface Env {
  server: RunningReferenceServer;
  port: number;
  signIn(who: string, o?: SignInOptions): Promise<Session>;
  control<T = Record<string, unknown>>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }>;
}

async function start(t: TestContext): Promise<Env> {
  const server = await startReferenceServer();
  const sessions: Session[] = [];
  t.after(async () => {
    await Promise.all(sessions.map((s) => s.client.close()));
    await server.close();
  });
  const port = Number(server.msnpAddress.split(":")[1]);
  return {
    server,
    port,
    async signIn(who, o) {
      const s = await signIn(server.world, port, who, o);
      sessions.push(s);
      return s;
    },
    async control<T>(method: "GET" | "POST", path: string, body?: unknown) {
      const r = await request(`${server.controlUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.statusCode, json: (await r.body.json()) as T };
    },
  };
}

const isSdg = (f: RawFrame): boolean => f.cmd === "SDG";
const isHorizon = (f: RawFrame): boolean => f.cmd === "NFY" && f.type === "MSGR\\CONSUMPTIONHORIZON";

interface Sent {
  messageId: number;
  clientMessageId: string;
  objectId: string;
  uri: string;
}

interface StoredMsg {
  id: number;
  from: string;
  to: string;
  messageType: string;
  contentType: string;
  content: string;
}

/** PROFILE §7.3, written out from the profile's templates (attribute values escaped by hand). */
function expectedImage(ams: string, id: string, name: string, size: number): string {
  return (
    `<URIObject type="Picture.1" uri="${ams}/v1/objects/${id}" url_thumbnail="${ams}/v1/objects/${id}/views/imgt1">` +
    `To view this shared photo, go to: <a href="https://login.skype.com/login/sso?go=xmmfallback?pic=${id}">` +
    `https://login.skype.com/login/sso?go=xmmfallback?pic=${id}</a><OriginalName v="${name}"/>` +
    `<FileSize v="${size}"/><meta type="photo" originalName="${name}"/></URIObject>`
  );
}

function expectedFile(ams: string, id: string, name: string, size: number): string {
  return (
    `<URIObject type="File.1" uri="${ams}/v1/objects/${id}" url_thumbnail="${ams}/v1/objects/${id}/views/thumbnail">` +
    `<Title>Title: ${name}</Title><Description> Description: ${name}</Description>` +
    `<a href="https://login.skype.com/login/sso?go=webclient.xmm&amp;docid=${id}">` +
    `https://login.skype.com/login/sso?go=webclient.xmm&amp;docid=${id}</a>` +
    `<OriginalName v="${name}"/><FileSize v="${size}"/></URIObject>`
  );
}

async function download(env: Env, who: string, uri: string, view: string) {
  const token = env.server.world.issueSkypetoken(env.server.world.mustFind(who), 600);
  const r = await request(`${uri}/views/${view}`, { headers: { authorization: `skype_token ${token}` } });
  return {
    status: r.statusCode,
    body: Buffer.from(await r.body.arrayBuffer()),
    type: r.headers["content-type"],
  };
}

test("POST /media/send: the §7.3 image and file messages, objects readable by the recipient, stored and caught up", async (t) => {
  const env = await start(t);
  const alice = await env.signIn("alice@hotmail.co.uk");
  const ams = env.server.endpoints.ams;
  const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.from("pixels")]);
  const thumb = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.from("small")]);

  const img = await env.control<Sent>("POST", "/media/send", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    kind: "image",
    name: "holiday.png",
    contentBase64: png.toString("base64"),
    thumbnailBase64: thumb.toString("base64"),
  });
  assert.equal(img.status, 200, JSON.stringify(img.json));
  assert.equal(img.json.uri, `${ams}/v1/objects/${img.json.objectId}`);
  const f1 = await alice.client.next(isSdg);
  const b1 = blocks(f1.body);
  assert.equal(b1.routing.from, "8:live:bob_1");
  assert.equal(b1.content["message-type"], "RichText/UriObject");
  assert.equal(b1.content["content-type"], "application/user+xml");
  assert.equal(b1.content["message-id"], String(img.json.messageId));
  assert.equal(b1.body, expectedImage(ams, img.json.objectId, "holiday.png", png.length));
  // Alice signed in as 1:, the permission names her 8: identity: she reads it.
  const full = await download(env, "alice@hotmail.co.uk", img.json.uri, "imgpsh_fullsize");
  assert.equal(full.status, 200);
  assert.deepEqual(full.body, png);
  assert.equal(full.type, "image/png");
  assert.deepEqual((await download(env, "alice@hotmail.co.uk", img.json.uri, "imgt1")).body, thumb);
  assert.equal((await download(env, "carol@live.com", img.json.uri, "imgpsh_fullsize")).status, 403);

  // `to` by e-mail is the person's 8: identity.
  const byMail = await env.control<Sent>("POST", "/media/send", {
    from: "bob@outlook.com",
    to: "alice@hotmail.co.uk",
    kind: "image",
    name: "m.png",
    contentBase64: png.toString("base64"),
  });
  assert.equal(byMail.status, 200);
  assert.equal(blocks((await alice.client.next(isSdg)).body).routing.to, "8:live:alice_1");

  // A file whose name needs escaping.
  const name = `q"&<b>'.txt`;
  const escaped = "q&quot;&amp;&lt;b&gt;&apos;.txt";
  const data = Buffer.from("file body", "utf8");
  const file = await env.control<Sent>("POST", "/media/send", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    kind: "file",
    name,
    contentBase64: data.toString("base64"),
    mime: "text/plain",
  });
  assert.equal(file.status, 200);
  const f2 = await alice.client.next(isSdg);
  const b2 = blocks(f2.body);
  assert.equal(b2.content["message-type"], "RichText/Media_GenericFile");
  assert.equal(b2.body, expectedFile(ams, file.json.objectId, escaped, data.length));
  const got = await download(env, "alice@hotmail.co.uk", file.json.uri, "original");
  assert.deepEqual(got.body, data);
  assert.equal(got.type, "text/plain");
  const obj = await env.control<{ filename: string; permissions: Record<string, string[]> }>(
    "GET",
    `/media/object?id=${file.json.objectId}`,
  );
  assert.equal(obj.json.filename, name);
  assert.deepEqual(obj.json.permissions, { "8:live:alice_1": ["read"] });

  // Stored: the control API and catch-up return both like any message.
  const stored = await env.control<{ messages: StoredMsg[] }>(
    "GET",
    "/msnp/messages?user=alice@hotmail.co.uk&conversation=8:live:bob_1",
  );
  assert.deepEqual(
    stored.json.messages.map((m) => m.messageType),
    ["RichText/UriObject", "RichText/UriObject", "RichText/Media_GenericFile"],
  );
  const page = await alice.call(
    "GET",
    "MSGR\\MESSAGESBYCONVERSATION",
    "<messagesbyconversation><id>8:live:bob_1</id><start>0</start><pagesize>10</pagesize></messagesbyconversation>",
  );
  assert.match(page.body, /<messagetype>RichText\/Media_GenericFile<\/messagetype>/);
  assert.match(page.body, /<messagetype>RichText\/UriObject<\/messagetype>/);
  assert.ok(page.body.includes("&lt;URIObject type=&quot;Picture.1&quot;"), "content escaped in the XML");

  // To a thread: its members read it.
  const th = await env.control<{ id: string }>("POST", "/msnp/thread/create", {
    as: "bob@outlook.com",
    members: ["8:live:alice_1", "8:live:carol_7"],
  });
  const g = await env.control<Sent>("POST", "/media/send", {
    from: "bob@outlook.com",
    to: th.json.id,
    kind: "file",
    name: "g.txt",
    contentBase64: Buffer.from("group").toString("base64"),
  });
  assert.equal(g.status, 200);
  assert.equal((await download(env, "carol@live.com", g.json.uri, "original")).status, 200);
  assert.equal((await download(env, "mallory@hotmail.com", g.json.uri, "original")).status, 403);

  // Bad input gets 400/404, nothing is sent.
  for (const [body, status] of [
    [{ from: "bob@outlook.com", to: "8:live:alice_1", kind: "video", name: "x", contentBase64: "" }, 400],
    [{ from: "bob@outlook.com", to: "8:live:alice_1", kind: "file", name: "x", contentBase64: "!!" }, 400],
    [{ from: "nobody@x", to: "8:live:alice_1", kind: "file", name: "x", contentBase64: "AA==" }, 404],
    [{ from: "bob@outlook.com", to: "8:nobody", kind: "file", name: "x", contentBase64: "AA==" }, 404],
  ] as const) {
    assert.equal((await env.control("POST", "/media/send", body)).status, status, JSON.stringify(body));
  }
  const bad = await request(`${env.server.controlUrl}/media/send`, { method: "POST", body: "{nope" });
  await bad.body.dump();
  assert.equal(bad.statusCode, 400);
});

test("a client's URIObject SDG is routed and stored like any message; /msnp/send-raw sends hostile bodies as given", async (t) => {
  const env = await start(t);
  const alice = await env.signIn("alice@hotmail.co.uk");
  const bob = await env.signIn("bob@outlook.com");
  const ams = env.server.endpoints.ams;
  const body = expectedImage(ams, "0-weu-d1-0123456789abcdef0123456789abcdef", "a.png", 3);
  const cmid = alice.sdg("8:live:bob_1", body, [
    ["Message-Type", "RichText/UriObject"],
    ["Content-Type", "application/user+xml"],
  ]);
  const f = await bob.client.next(isSdg);
  assert.equal(blocks(f.body).body, body);
  assert.equal(blocks(f.body).content["message-type"], "RichText/UriObject");
  const stored = await env.control<{ messages: Array<StoredMsg & { clientMessageId: string }> }>(
    "GET",
    "/msnp/messages?user=bob@outlook.com&conversation=8:live:alice_1",
  );
  assert.equal(stored.json.messages.length, 1);
  assert.equal(stored.json.messages[0]!.clientMessageId, cmid);
  assert.equal(stored.json.messages[0]!.content, body);
  assert.equal(stored.json.messages[0]!.contentType, "application/user+xml");

  // Hostile: a URIObject pointing at another host, sent verbatim.
  const evil = `<URIObject type="Picture.1" uri="https://evil.example/v1/objects/0-x" url_thumbnail="https://evil.example/t"><OriginalName v="../../etc/passwd"/><FileSize v="-1"/></URIObject>`;
  const raw = await env.control<{ messageId: number; clientMessageId: string }>("POST", "/msnp/send-raw", {
    from: "bob@outlook.com",
    to: "1:alice@hotmail.co.uk",
    messageType: "RichText/UriObject",
    body: evil,
  });
  assert.equal(raw.status, 200);
  const g = await alice.client.next(
    (x) => isSdg(x) && blocks(x.body).content["message-id"] === String(raw.json.messageId),
  );
  assert.equal(blocks(g.body).body, evil);
  assert.equal(blocks(g.body).content["content-type"], "application/user+xml");
  assert.equal(blocks(g.body).routing.to, "1:alice@hotmail.co.uk");
  // A header value with a line break would forge headers: refused.
  const forged = await env.control("POST", "/msnp/send-raw", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    messageType: "Text\r\nSkype-EditedId: 1",
    body: "x",
  });
  assert.equal(forged.status, 400);
  assert.equal(
    (await env.control("POST", "/msnp/send-raw", { from: "bob@outlook.com", to: "8:live:alice_1" })).status,
    400,
  );
});

test("POST /media/quote: the §7.4 markup with author, authorname, timestamp, conversation and messageid", async (t) => {
  const env = await start(t);
  const alice = await env.signIn("alice@hotmail.co.uk");
  const bob = await env.signIn("bob@outlook.com");
  alice.sdg("8:live:bob_1", "original & <text>");
  const orig = await bob.client.next(isSdg);
  const origId = Number(blocks(orig.body).content["message-id"]);
  const stored = (
    await env.control<{ messages: Array<StoredMsg & { arrival: number }> }>(
      "GET",
      "/msnp/messages?user=bob@outlook.com&conversation=8:live:alice_1",
    )
  ).json.messages[0]!;
  const q = await env.control<{ messageId: number }>("POST", "/media/quote", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    messageId: origId,
    text: "reply <1>",
  });
  assert.equal(q.status, 200, JSON.stringify(q.json));
  const f = await alice.client.next(isSdg);
  const b = blocks(f.body);
  assert.equal(b.content["message-type"], "RichText");
  const ts = Math.floor(stored.arrival / 1000);
  const stamp = new Date(stored.arrival).toISOString().slice(0, 19).replace("T", " ");
  assert.equal(
    b.body,
    `<quote author="8:live:alice_1" authorname="Alice Liddell" timestamp="${ts}" conversation="8:live:alice_1" messageid="${origId}">` +
      `<legacyquote>[${stamp}] Alice Liddell: </legacyquote>original &amp; &lt;text&gt;` +
      `<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>reply &lt;1&gt;`,
  );
  // Quoting by the other identity of the conversation works; unknown ids are 404.
  const again = await env.control("POST", "/media/quote", {
    from: "bob@outlook.com",
    to: "1:alice@hotmail.co.uk",
    messageId: String(origId),
    text: "<b>bold</b>",
    kind: "richtext",
  });
  assert.equal(again.status, 200);
  assert.ok(blocks((await alice.client.next(isSdg)).body).body.endsWith("</quote><b>bold</b>"));
  const unknown = await env.control("POST", "/media/quote", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    messageId: origId + 1000,
    text: "x",
  });
  assert.equal(unknown.status, 404);
  const wrongConv = await env.control("POST", "/media/quote", {
    from: "bob@outlook.com",
    to: "8:live:carol_7",
    messageId: origId,
    text: "x",
  });
  assert.equal(wrongConv.status, 404);
});

test("consumption horizon: PUT stored, NFY to the reader's other endpoints and the other member, not to the sender; backwards kept", async (t) => {
  const env = await start(t);
  const a1 = await env.signIn("alice@hotmail.co.uk");
  const a2 = await env.signIn("alice@hotmail.co.uk");
  const aIdle = await env.signIn("alice@hotmail.co.uk", { subscribe: "<subscribe><presence/></subscribe>" });
  const b1 = await env.signIn("bob@outlook.com");
  const c1 = await env.signIn("carol@live.com");
  const sent = await env.control<{ messageId: number; clientMessageId: string }>("POST", "/msnp/send", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    text: "read me",
  });
  await a1.client.next(isSdg);
  const horizon = `${sent.json.messageId};${Date.now()};${sent.json.clientMessageId}`;
  const reply = await a1.call(
    "PUT",
    "MSGR\\CONSUMPTIONHORIZON",
    `<consumptionhorizon><id>8:live:bob_1</id><horizon>${horizon}</horizon></consumptionhorizon>`,
  );
  assert.equal(`${reply.cmd} ${reply.type}`, "PUT MSGR");
  assert.equal(reply.body, "", "empty body");

  const expected = `<consumptionhorizon><id>8:live:bob_1</id><user>8:live:alice_1</user><horizon>${horizon}</horizon></consumptionhorizon>`;
  const own = await a2.client.next(isHorizon);
  assert.equal(`${own.cmd} ${own.trid}`, "NFY 0");
  assert.equal(own.body, expected);
  const other = await b1.client.next(isHorizon);
  assert.equal(
    other.body,
    `<consumptionhorizon><id>8:live:alice_1</id><user>8:live:alice_1</user><horizon>${horizon}</horizon></consumptionhorizon>`,
  );
  for (const s of [a1, aIdle, c1]) await s.barrier();
  assert.equal(a1.client.frames.filter(isHorizon).length, 0, "the sending endpoint gets none");
  assert.equal(aIdle.client.frames.filter(isHorizon).length, 0, "unsubscribed endpoint gets none");
  assert.equal(c1.client.frames.filter(isHorizon).length, 0, "not a member");

  // Backwards: the latest write wins.
  const older = `1;${Date.now()};1`;
  await a2.call(
    "PUT",
    "MSGR\\CONSUMPTIONHORIZON",
    `<consumptionhorizon><id>1:bob@outlook.com</id><horizon>${older}</horizon></consumptionhorizon>`,
  );
  await a1.client.next(isHorizon);
  const h = await env.control<{
    horizons: Array<{ user: string; conversation: string; horizon: string; messageId: number }>;
  }>("GET", "/msnp/horizons?conversation=8:live:bob_1&user=alice@hotmail.co.uk");
  assert.deepEqual(
    h.json.horizons.map((x) => [x.user, x.conversation, x.horizon, x.messageId]),
    [["8:live:alice_1", "1:bob@outlook.com", older, 1]],
  );

  // Hostile PUTs get an error and the connection keeps working.
  for (const [body, code] of [
    ["<consumptionhorizon><id>8:live:bob_1</id><horizon>abc</horizon></consumptionhorizon>", "201"],
    ["<consumptionhorizon><id></id><horizon>1;2;3</horizon></consumptionhorizon>", "201"],
    ["<consumptionhorizon><id>8:nobody</id><horizon>1;2;3</horizon></consumptionhorizon>", "217"],
    [
      "<consumptionhorizon><id>19:00000000000000000000000000000000@thread.skype</id><horizon>1;2;3</horizon></consumptionhorizon>",
      "217",
    ],
    ["<consumptionhorizon><id>8:live:bob_1", "201"],
    ["<other/>", "201"],
  ] as const) {
    const r = await a1.call("PUT", "MSGR\\CONSUMPTIONHORIZON", body);
    assert.equal(r.cmd, code, body);
  }
  await a1.barrier();
});

test("consumption horizon in threads, via POST /msnp/read, and in RECENTCONVERSATIONS", async (t) => {
  const env = await start(t);
  const alice = await env.signIn("alice@hotmail.co.uk");
  const bob = await env.signIn("bob@outlook.com");
  const mallory = await env.signIn("mallory@hotmail.com");
  const th = await env.control<{ id: string }>("POST", "/msnp/thread/create", {
    as: "alice@hotmail.co.uk",
    members: ["8:live:bob_1", "8:live:carol_7"],
  });
  const tid = th.json.id;
  const m = await env.control<{ messageId: number; clientMessageId: string }>("POST", "/msnp/send", {
    from: "8:live:alice_1",
    to: tid,
    text: "group hello",
  });
  const read = await env.control("POST", "/msnp/read", {
    user: "carol@live.com",
    conversation: tid,
    messageId: m.json.messageId,
  });
  assert.equal(read.status, 200);
  for (const s of [alice, bob]) {
    const f = await s.client.next(isHorizon);
    assert.match(
      f.body,
      new RegExp(
        `^<consumptionhorizon><id>${tid.replace(/\./g, "\\.")}</id><user>8:live:carol_7</user><horizon>${m.json.messageId};\\d+;${m.json.clientMessageId}</horizon></consumptionhorizon>$`,
      ),
    );
  }
  await mallory.barrier();
  assert.equal(mallory.client.frames.filter(isHorizon).length, 0);
  assert.equal(
    (
      await env.control("POST", "/msnp/read", {
        user: "mallory@hotmail.com",
        conversation: tid,
        messageId: 1,
      })
    ).status,
    403,
  );
  assert.equal(
    (
      await env.control("POST", "/msnp/read", {
        user: "alice@hotmail.co.uk",
        conversation: "8:nobody",
        messageId: 1,
      })
    ).status,
    404,
  );
  assert.equal(
    (
      await env.control("POST", "/msnp/read", {
        user: "alice@hotmail.co.uk",
        conversation: tid,
        messageId: "x",
      })
    ).status,
    400,
  );

  // A 1:1 conversation: both members' horizons, each named as the owner sees them.
  const dm = await env.control<{ messageId: number }>("POST", "/msnp/send", {
    from: "bob@outlook.com",
    to: "8:live:alice_1",
    text: "dm",
  });
  await env.control("POST", "/msnp/read", {
    user: "alice@hotmail.co.uk",
    conversation: "8:live:bob_1",
    messageId: dm.json.messageId,
  });
  await env.control("POST", "/msnp/read", {
    user: "bob@outlook.com",
    conversation: "8:live:alice_1",
    messageId: dm.json.messageId,
  });
  // By e-mail: the same conversation (bob's 8:), the latest write.
  await env.control("POST", "/msnp/read", {
    user: "bob@outlook.com",
    conversation: "alice@hotmail.co.uk",
    messageId: dm.json.messageId,
  });
  const byMail = await env.control<{ horizons: Array<{ conversation: string }> }>(
    "GET",
    "/msnp/horizons?user=bob@outlook.com&conversation=1:alice@hotmail.co.uk",
  );
  assert.deepEqual(
    byMail.json.horizons.map((h) => h.conversation),
    ["8:live:alice_1"],
  );
  const recent = await alice.call(
    "GET",
    "MSGR\\RECENTCONVERSATIONS",
    "<recentconversations><start>0</start><pagesize>10</pagesize></recentconversations>",
  );
  const convs = [...recent.body.matchAll(/<conversation><id>([^<]*)<\/id>(.*?)<\/conversation>/g)].map(
    (x) => ({
      id: x[1]!,
      horizons: [...x[2]!.matchAll(/<consumptionhorizon user="([^"]*)">([^<]*)<\/consumptionhorizon>/g)].map(
        (h) => [h[1], h[2]!.split(";")[0]],
      ),
    }),
  );
  const byId = new Map(convs.map((c) => [c.id, c.horizons]));
  assert.deepEqual(byId.get(tid), [["8:live:carol_7", String(m.json.messageId)]]);
  assert.deepEqual(byId.get("8:live:bob_1"), [
    ["8:live:alice_1", String(dm.json.messageId)],
    ["8:live:bob_1", String(dm.json.messageId)],
  ]);
  const all = await env.control<{ horizons: unknown[] }>(
    "GET",
    `/msnp/horizons?conversation=${encodeURIComponent(tid)}`,
  );
  assert.equal(all.json.horizons.length, 1);
});
