// SPDX-License-Identifier: Apache-2.0
/**
 * The stand-in for @matrix-org/matrix-sdk-crypto-nodejs (stubs/matrix-sdk-crypto-nodejs, on the
 * wasm build): two machines set up Olm and Megolm through a tiny in-memory key server, one
 * decrypts the other's message; the store survives a restart from disk; a restore from a save
 * with unsaved writes (a crash) starts a new Megolm session; bot-sdk's calling conventions
 * (native field names, reused UserId arrays, signatures, attachments) work.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- the stand-in is plain JavaScript */
const sdk: any = createRequire(__filename)("@matrix-org/matrix-sdk-crypto-nodejs");

const dir = mkdtempSync(join(tmpdir(), "crypto-standin-"));
// As the bridge does: bot-sdk passes no passphrase, the stand-in derives one per store.
sdk.setStorePassphrase((store: string) => `passphrase for ${store}`);
after(() => rmSync(dir, { recursive: true, force: true }));

/** The key server part of a homeserver, enough for two devices. */
class KeyServer {
  deviceKeys: Record<string, Record<string, unknown>> = {};
  otks: Record<string, Record<string, Record<string, unknown>>> = {};

  /** Runs a machine's outgoing requests against this server; returns its to-device requests. */
  async run(user: string, machine: any): Promise<any[]> {
    const toDevice: any[] = [];
    for (const r of await machine.outgoingRequests()) {
      if (r.type === sdk.RequestType.KeysUpload) {
        const body = JSON.parse(r.body);
        if (body.device_keys) (this.deviceKeys[user] ??= {})[body.device_keys.device_id] = body.device_keys;
        const device = machine.deviceId.toString();
        Object.assign(((this.otks[user] ??= {})[device] ??= {}), body.one_time_keys ?? {});
        const count = Object.keys(this.otks[user][device]).length;
        await machine.markRequestAsSent(r.id, r.type, JSON.stringify({ one_time_key_counts: { signed_curve25519: count } }));
      } else if (r.type === sdk.RequestType.KeysQuery) {
        await machine.markRequestAsSent(r.id, r.type, JSON.stringify(this.query(JSON.parse(r.body))));
      } else if (r.type === sdk.RequestType.ToDevice) {
        toDevice.push(r);
        await machine.markRequestAsSent(r.txnId, r.type, "{}");
      }
    }
    return toDevice;
  }

  query(body: { device_keys: Record<string, unknown> }): unknown {
    const out: Record<string, unknown> = {};
    for (const u of Object.keys(body.device_keys)) out[u] = this.deviceKeys[u] ?? {};
    return { device_keys: out, failures: {} };
  }

  claim(body: { one_time_keys: Record<string, Record<string, string>> }): unknown {
    const out: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const [u, devices] of Object.entries(body.one_time_keys)) {
      for (const d of Object.keys(devices)) {
        const keys = this.otks[u]?.[d] ?? {};
        const id = Object.keys(keys)[0];
        if (id === undefined) continue;
        ((out[u] ??= {})[d] ??= {})[id] = keys[id];
        delete keys[id];
      }
    }
    return { one_time_keys: out, failures: {} };
  }
}

/** to-device requests -> the to-device events `recipient` would receive. */
function deliver(requests: any[], sender: string, recipient: string): unknown[] {
  const events: unknown[] = [];
  for (const r of requests) {
    const messages = JSON.parse(r.body).messages as Record<string, Record<string, unknown>>;
    for (const content of Object.values(messages[recipient] ?? {})) events.push({ type: r.eventType, sender, content });
  }
  return events;
}

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";
const ROOM = "!room:example.org";

function open(user: string, device: string, store: string): Promise<any> {
  return sdk.OlmMachine.initialize(new sdk.UserId(user), new sdk.DeviceId(device), store, "", sdk.StoreType.Sqlite);
}

/** Bob shares a room key with Alice (bot-sdk's RustEngine steps) and encrypts `body`. */
async function bobSends(server: KeyServer, bob: any, alice: any, body: string): Promise<string> {
  const members = [new sdk.UserId(ALICE), new sdk.UserId(BOB)];
  // bot-sdk passes the same array to three calls: the stand-in must not let the first consume it.
  await bob.updateTrackedUsers(members);
  await server.run(BOB, bob);
  const claim = await bob.getMissingSessions(members);
  if (claim) await bob.markRequestAsSent(claim.id, claim.type, JSON.stringify(server.claim(JSON.parse(claim.body))));
  const settings = new sdk.EncryptionSettings();
  const shares = await bob.shareRoomKey(new sdk.RoomId(ROOM), members, settings);
  for (const s of shares) await bob.markRequestAsSent(s.txnId, s.type, "{}");
  const toDevice = deliver(shares, BOB, ALICE);
  const sync = JSON.parse(
    await alice.receiveSyncChanges(JSON.stringify(toDevice), new sdk.DeviceLists([], []), { signed_curve25519: 49 }, []),
  );
  assert.ok(Array.isArray(sync) && Array.isArray(sync[0]), "receiveSyncChanges answers [events, changes] as JSON");
  const content = await bob.encryptRoomEvent(new sdk.RoomId(ROOM), "m.room.message", JSON.stringify({ msgtype: "m.text", body }));
  return JSON.stringify({
    type: "m.room.encrypted",
    event_id: `$${Math.random().toString(36).slice(2)}`,
    sender: BOB,
    room_id: ROOM,
    origin_server_ts: Date.now(),
    content: JSON.parse(content),
  });
}

async function decryptedBody(alice: any, event: string): Promise<string> {
  const decrypted = await alice.decryptRoomEvent(event, new sdk.RoomId(ROOM));
  return JSON.parse(decrypted.event).content.body as string;
}

/** The part of IndexedDB (fake-indexeddb, installed globally by the stand-in) this test uses. */
interface IndexedDbFactory {
  databases(): Promise<{ name?: string }[]>;
  deleteDatabase(name: string): { onsuccess: () => void; onerror: () => void; error: unknown };
}
const indexedDB = (globalThis as unknown as { indexedDB: IndexedDbFactory }).indexedDB;

/** Forgets a store's in-memory databases, as a process restart would. */
async function forgetInMemory(store: string): Promise<void> {
  const dbs = await indexedDB.databases();
  for (const d of dbs) {
    if (!d.name?.startsWith(store + "::")) continue;
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase(d.name!);
      r.onsuccess = () => resolve();
      r.onerror = () => reject(new Error(`deleteDatabase failed: ${String(r.error)}`));
    });
  }
}

describe("matrix-sdk-crypto-nodejs stand-in (wasm)", () => {
  const server = new KeyServer();
  const aliceStore = join(dir, "alice");
  const bobStore = join(dir, "bob");
  let alice: any;
  let bob: any;
  let firstEvent = "";

  it("sets up Olm and Megolm between two machines; one decrypts the other's message", async () => {
    alice = await open(ALICE, "ALICEDEV", aliceStore);
    bob = await open(BOB, "BOBDEV", bobStore);
    await server.run(ALICE, alice);
    await server.run(BOB, bob);
    assert.ok(server.deviceKeys[ALICE]?.["ALICEDEV"], "Alice's device keys were uploaded");
    firstEvent = await bobSends(server, bob, alice, "hello Alice");
    assert.equal(await decryptedBody(alice, firstEvent), "hello Alice");
  });

  it("signs with the native shape (object of key id -> { isValid, signature })", async () => {
    const signatures = await alice.sign(JSON.stringify({ a: 1 }));
    const mine = signatures.get(new sdk.UserId(ALICE));
    const entry = mine["ed25519:ALICEDEV"];
    assert.equal(entry.isValid, true);
    assert.match(entry.signature.toBase64(), /^[A-Za-z0-9+/]{40,}$/);
  });

  it("exports the keys of one session (emulated exportRoomKeysForSession)", async () => {
    const sessionId = JSON.parse(firstEvent).content.session_id as string;
    const keys = JSON.parse(await alice.exportRoomKeysForSession(ROOM, sessionId)) as { session_id: string }[];
    assert.deepEqual(
      keys.map((k) => k.session_id),
      [sessionId],
    );
    assert.deepEqual(JSON.parse(await alice.exportRoomKeysForSession(ROOM, "nope")), []);
  });

  it("encrypts and decrypts attachments with the native shapes", () => {
    const data = Buffer.from("a picture");
    const encrypted = sdk.Attachment.encrypt(data);
    const info = JSON.parse(encrypted.mediaEncryptionInfo);
    assert.equal(info.v, "v2");
    assert.notDeepEqual(Buffer.from(encrypted.encryptedData), data);
    const back = sdk.Attachment.decrypt(new sdk.EncryptedAttachment(encrypted.encryptedData, encrypted.mediaEncryptionInfo));
    assert.deepEqual(Buffer.from(back), data);
  });

  it("keeps the store across a restart (saved to disk, nothing secret in clear)", async () => {
    const identity = alice.identityKeys.ed25519.toBase64();
    await alice.close();
    await forgetInMemory(aliceStore);
    const files = readdirSync(aliceStore);
    assert.ok(files.some((f) => f.endsWith(".idb")), `saved files: ${files.join(", ")}`);
    assert.ok(!files.some((f) => f.endsWith(".dirty")), "a clean close leaves no dirty marker");
    const onDisk = Buffer.concat(files.map((f) => readFileSync(join(aliceStore, f)))).toString("latin1");
    for (const secret of ["hello Alice", "ALICEDEV", identity])
      assert.ok(!onDisk.includes(secret), `"${secret}" is not on disk in clear`);
    alice = await open(ALICE, "ALICEDEV", aliceStore);
    assert.equal(alice.identityKeys.ed25519.toBase64(), identity, "same device identity after the restart");
    assert.equal(await decryptedBody(alice, firstEvent), "hello Alice", "old Megolm keys are still there");
    // And the Olm session goes on: a new message in the same session decrypts.
    const second = await bobSends(server, bob, alice, "still there?");
    assert.equal(await decryptedBody(alice, second), "still there?");
  });

  it("after a crash with unsaved writes, restores the last save and rotates the outbound session", async () => {
    const sessionBefore = JSON.parse(await bobSends(server, bob, alice, "before the crash")).content.session_id as string;
    await bob.flush();
    // A crash: the process dies with writes not saved yet (the marker a write leaves behind).
    const saved = readdirSync(bobStore).filter((f) => f.endsWith(".idb"));
    for (const f of saved) writeFileSync(join(bobStore, f + ".dirty"), "");
    await bob.close();
    for (const f of saved) writeFileSync(join(bobStore, f + ".dirty"), "");
    await forgetInMemory(bobStore);
    bob = await open(BOB, "BOBDEV", bobStore);
    assert.equal(bob.roomsToRotate, "all", "the restore knows the save may be behind");
    const event = await bobSends(server, bob, alice, "after the crash");
    assert.notEqual(JSON.parse(event).content.session_id, sessionBefore, "a new Megolm session after the crash");
    assert.equal(await decryptedBody(alice, event), "after the crash");
    await bob.flush();
    assert.ok(!readdirSync(bobStore).some((f) => f.endsWith(".dirty")), "the next save clears the marker");
  });

  after(async () => {
    await alice?.close();
    await bob?.close();
  });
});
