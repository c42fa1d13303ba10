import { test } from "node:test";
import assert from "node:assert/strict";
import {
  consumptionHorizonXml,
  horizonsFromRecent,
  horizonValue,
  parseHorizon,
  parseHorizonNotification,
} from "../../../../src/skype/msnp/horizon.js";
import { parseRecentConversations } from "../../../../src/skype/msnp/history.js";
import { SelfIdentity } from "../../../../src/skype/msnp/identity.js";

const self = new SelfIdentity("alice@hotmail.co.uk", "live:alice_1");

test("the PUT body is the §7.5 document, escaped", () => {
  const v = horizonValue("1001", 1_733_350_000_000.7, "555");
  assert.equal(v, "1001;1733350000000;555");
  assert.equal(horizonValue("1001", 5), "1001;5;1001");
  assert.equal(horizonValue("1001", 5, "not<digits"), "1001;5;1001");
  assert.equal(
    consumptionHorizonXml("19:a&b@thread.skype", v),
    "<consumptionhorizon><id>19:a&amp;b@thread.skype</id><horizon>1001;1733350000000;555</horizon></consumptionhorizon>",
  );
});

test("parseHorizon tolerates missing, empty and odd parts", () => {
  assert.deepEqual(parseHorizon("1001;1733350000000;555"), {
    raw: "1001;1733350000000;555",
    messageId: "1001",
    modifiedMs: 1733350000000,
    clientMessageId: "555",
  });
  assert.deepEqual(parseHorizon("1001"), { raw: "1001", messageId: "1001" });
  assert.deepEqual(parseHorizon(" 1001;;"), { raw: "1001;;", messageId: "1001" });
  assert.deepEqual(parseHorizon("0;0;0"), { raw: "0;0;0" });
  assert.deepEqual(parseHorizon(";12;x"), { raw: ";12;x", modifiedMs: 12 });
  assert.deepEqual(parseHorizon("abc;-1;1e5"), { raw: "abc;-1;1e5" });
  assert.deepEqual(parseHorizon(""), { raw: "" });
  assert.deepEqual(parseHorizon(undefined as unknown as string), { raw: "" });
});

test("NFY bodies: a contact's and the user's own, raw or behind a header block", () => {
  const doc =
    "<consumptionhorizon><id>8:live:bob_1</id><user>8:live:bob_1;epid={e}</user><horizon>77;1;66</horizon></consumptionhorizon>";
  assert.deepEqual(parseHorizonNotification(Buffer.from(doc), self), {
    conversation: "8:live:bob_1",
    user: "8:live:bob_1",
    fromMe: false,
    horizon: { raw: "77;1;66", messageId: "77", modifiedMs: 1, clientMessageId: "66" },
    source: "live",
  });
  const own = parseHorizonNotification(
    Buffer.from(
      "Routing: 1.0\r\nTo: 8:live:alice_1\r\n\r\nReliability: 1.0\r\n\r\nNotification: 1.0\r\n\r\n" +
        "<consumptionhorizon><id>8:live:bob_1</id><user>1:alice@hotmail.co.uk</user><horizon>78</horizon></consumptionhorizon>",
    ),
    self,
  );
  assert.equal(own?.fromMe, true);
  assert.equal(own?.conversation, "8:live:bob_1");
  assert.equal(own?.horizon.messageId, "78");
  // A 1:1 named by the user's own identity (as the reader sees it) is keyed by the reader.
  const mirrored = parseHorizonNotification(
    Buffer.from(
      "<consumptionhorizon><id>8:live:alice_1</id><user>8:live:bob_1</user><horizon>9</horizon></consumptionhorizon>",
    ),
    self,
  );
  assert.equal(mirrored?.conversation, "8:live:bob_1");
  assert.equal(
    parseHorizonNotification(Buffer.from("<consumptionhorizon><id>8:x</id></consumptionhorizon>"), self),
    undefined,
  );
  assert.throws(() => parseHorizonNotification(Buffer.from("<consumptionhorizon>"), self));
});

test("RECENTCONVERSATIONS horizons become events; conversations without them are unchanged", () => {
  const xml =
    "<recentconversations-response><conversations>" +
    "<conversation><id>8:live:bob_1</id><messages><message><id>80</id></message></messages>" +
    '<consumptionhorizon user="8:live:bob_1">79;1733350000000;79</consumptionhorizon>' +
    '<consumptionhorizon user="8:live:alice_1">80;1733350000001;123</consumptionhorizon>' +
    '<consumptionhorizon user="">1;2;3</consumptionhorizon></conversation>' +
    "<conversation><id>19:t@thread.skype</id></conversation>" +
    "</conversations></recentconversations-response>";
  const recent = parseRecentConversations(xml);
  assert.deepEqual(recent[1], { id: "19:t@thread.skype" });
  assert.equal(recent[0]!.lastMessageId, "80");
  const events = recent.flatMap((r) => horizonsFromRecent(r, self));
  assert.deepEqual(
    events.map((e) => [e.conversation, e.user, e.fromMe, e.horizon.messageId, e.source]),
    [
      ["8:live:bob_1", "8:live:bob_1", false, "79", "recent"],
      ["8:live:bob_1", "8:live:alice_1", true, "80", "recent"],
    ],
  );
});

test("client: recent horizons after catch-up, PUT MSGR\\CONSUMPTIONHORIZON, NFY as a horizon event", async (t) => {
  const { MsnpClient } = await import("../../../../src/skype/msnp/index.js");
  const { ScriptServer } = await import("./script-server.js");
  const server = new ScriptServer();
  server.handler = (f, reply) => {
    if (f.command === "CNT") reply({ body: "<connect-response><ver>2</ver></connect-response>" });
    else if (f.command === "ATH") reply({ body: "<auth-response/>" });
    else if (f.command === "BND") reply({ headers: [["Set-Registration", "R1"]], body: "" });
    else if (f.command === "PUT" || f.command === "DEL") reply({ type: "MSGR" });
    else if (f.type === "MSGR\\RECENTCONVERSATIONS")
      reply({
        type: "MSGR",
        body:
          "<recentconversations-response><conversations><conversation><id>8:live:bob_1</id>" +
          '<consumptionhorizon user="8:live:bob_1">5;1;5</consumptionhorizon></conversation>' +
          "</conversations></recentconversations-response>",
      });
    else if (f.command === "PNG") reply({ body: "<ping-response><wait>50</wait></ping-response>" });
  };
  const port = await server.listen();
  const client = new MsnpClient({
    host: "127.0.0.1",
    port,
    credentials: {
      email: "alice@hotmail.co.uk",
      skypename: "live:alice_1",
      getTicket: () => Promise.resolve("t"),
      getUic: () => Promise.resolve("u"),
    },
    clock: {
      now: () => 1_733_350_000_000,
      setTimeout,
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  });
  t.after(async () => {
    await client.stop();
    await server.close();
  });
  const events: unknown[] = [];
  client.on("horizon", (h) => events.push([h.source, h.conversation, h.user, h.horizon.messageId]));
  const caughtUp = new Promise((r) => client.once("caughtUp", r));
  client.start();
  await caughtUp;
  // `caughtUp` is emitted just before the session marks itself ready (same turn of its task).
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, [["recent", "8:live:bob_1", "8:live:bob_1", "5"]]);

  await client.setConsumptionHorizon("8:live:bob_1", "1001", "777");
  const put = await server.waitFor((f) => f.type === "MSGR\\CONSUMPTIONHORIZON", "PUT horizon");
  assert.equal(put.command, "PUT");
  assert.equal(put.headers.get("Registration"), "R1");
  assert.equal(
    put.body.toString(),
    "<consumptionhorizon><id>8:live:bob_1</id><horizon>1001;1733350000000;777</horizon></consumptionhorizon>",
  );
  await assert.rejects(client.setConsumptionHorizon("8:live:bob_1", "x"), /Message-ID/);

  const live = new Promise((r) => client.once("horizon", r));
  server.broadcast({
    command: "NFY",
    trid: 0,
    type: "MSGR\\CONSUMPTIONHORIZON",
    body: "<consumptionhorizon><id>8:live:bob_1</id><user>8:live:bob_1</user><horizon>1001;2;777</horizon></consumptionhorizon>",
  });
  await live;
  assert.deepEqual(events[1], ["live", "8:live:bob_1", "8:live:bob_1", "1001"]);
  // A broken one is logged and dropped; the connection stays.
  server.broadcast({
    command: "NFY",
    trid: 0,
    type: "MSGR\\CONSUMPTIONHORIZON",
    body: "<consumptionhorizon",
  });
  await client.setConsumptionHorizon("8:live:bob_1", "1002");
  assert.equal(client.state.kind, "connected");
});
