// SPDX-License-Identifier: Apache-2.0
/**
 * The whole Matrix path of the bridge app — appservice HTTP, durable inbox, management rooms and
 * contact requests, the bridge core — delivers the events of a transaction, and of successive
 * transactions, to the portal's queue in the order Synapse sent them. A message followed by its
 * redaction must never reach the portal redaction-first.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BridgeApp } from "../../../../src/bridge/app.js";
import type { MatrixEventJson } from "../../../../src/bridge/matrix/appservice.js";
import { generateRegistration } from "../../../../src/bridge/matrix/registration.js";
import { Portal } from "../../../../src/bridge/portal/portal.js";
import type { MatrixRoomEvent } from "../../../../src/bridge/portal/matrix-event-kinds.js";
import { openStore } from "../../../../src/store/index.js";
import { setLogWriter } from "../../../../src/util/logger.js";
import {
  ALICE,
  DM_ROOM,
  GROUP_ROOM,
  KEY,
  roomEvent,
  testConfig,
  text,
  THREAD,
} from "../portal/from-matrix/fakes.js";

void test("events reach the portal queues in arrival order, within and across transactions", async (t) => {
  t.after(setLogWriter(() => undefined));
  const store = openStore({ path: ":memory:", key: KEY });
  t.after(() => store.close());
  store.users.upsert(ALICE, { liveMri: "1:alice@hotmail.co.uk", skypeMri: "8:live:alice_1" });
  store.persons.link(["8:live:bob_1"]);
  store.portals.create({ roomId: DM_ROOM, receiver: ALICE, conversation: "8:live:bob_1", kind: "dm" });
  store.portals.create({ roomId: GROUP_ROOM, receiver: ALICE, conversation: THREAD, kind: "group" });
  const base = testConfig();
  const config = { ...base, homeserver: { ...base.homeserver, url: "http://127.0.0.1:1" } };
  const registration = generateRegistration({
    id: "skype",
    url: null,
    botLocalpart: "skypebot",
    domain: config.homeserver.domain,
    localpartTemplate: config.puppets.localpart_template,
  });

  const seen: string[] = [];
  const proto = Portal.prototype as { handleMatrixEvent(ev: MatrixRoomEvent): Promise<void> };
  const original = Object.getOwnPropertyDescriptor(proto, "handleMatrixEvent")!;
  proto.handleMatrixEvent = (ev: MatrixRoomEvent) => {
    seen.push(ev.event_id);
    return Promise.resolve();
  };
  t.after(() => Object.defineProperty(proto, "handleMatrixEvent", original));

  const app = new BridgeApp({ config, registration, store, version: "test" });
  await app.start(0);
  t.after(() => app.stop());
  const server = (
    app.matrix.bridge.appService as unknown as { app: unknown; server?: { address(): { port: number } } }
  ).server;
  const port = server!.address().port;
  const put = async (txn: string, events: MatrixEventJson[]): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}/_matrix/app/v1/transactions/${txn}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${registration.hs_token}` },
      body: JSON.stringify({ events }),
    });
    assert.equal(res.status, 200);
  };

  const redaction = (id: string, target: string, room = DM_ROOM): MatrixEventJson =>
    roomEvent(id, {}, { type: "m.room.redaction", redacts: target, room });
  await put("t1", [
    roomEvent("$m1", text("hello")),
    redaction("$r1", "$m1"),
    roomEvent("$g1", text("group"), { room: GROUP_ROOM }),
    roomEvent("$m2", text("again")),
  ]);
  await put("t2", [redaction("$r2", "$m2"), roomEvent("$m3", text("third"))]);
  const deadline = Date.now() + 5000;
  while (seen.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    seen.filter((id) => id !== "$g1"),
    ["$m1", "$r1", "$m2", "$r2", "$m3"],
  );
  assert.ok(seen.includes("$g1"));
});
