// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run bench:crypto`: what end-to-bridge encryption costs, measured on the crypto the bridge
 * runs (the stand-in in stubs/matrix-sdk-crypto-nodejs on @matrix-org/matrix-sdk-crypto-wasm,
 * stores saved to disk), in this process, without a homeserver (a small in-memory key server):
 * - memory and disk per puppet device (an Olm machine with its keys uploaded);
 * - memory per encrypted portal (a Megolm session shared from a puppet to the bot's device);
 * - time added per message: encrypting (puppet side) and decrypting (bot side) one event.
 *
 * Environment: BENCH_DEVICES [50], BENCH_ROOMS [50], BENCH_MESSAGES [500].
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, no-console -- the stand-in is plain JavaScript; a bench prints */
const sdk: any = createRequire(__filename)("@matrix-org/matrix-sdk-crypto-nodejs");

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const ROOMS = Number(process.env.BENCH_ROOMS ?? 50);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 500);
const dir = mkdtempSync(join(tmpdir(), "bench-crypto-"));
sdk.setStorePassphrase((store: string) => `bench ${store}`);

const deviceKeys: Record<string, Record<string, unknown>> = {};
const otks: Record<string, Record<string, unknown>> = {};

/** Uploads keys and answers key queries for `machine` (what Synapse does). */
async function serve(user: string, machine: any): Promise<void> {
  for (const r of await machine.outgoingRequests()) {
    if (r.type === sdk.RequestType.KeysUpload) {
      const body = JSON.parse(r.body);
      if (body.device_keys) (deviceKeys[user] ??= {})[body.device_keys.device_id] = body.device_keys;
      Object.assign((otks[user] ??= {}), body.one_time_keys ?? {});
      await machine.markRequestAsSent(
        r.id,
        r.type,
        JSON.stringify({ one_time_key_counts: { signed_curve25519: 50 } }),
      );
    } else if (r.type === sdk.RequestType.KeysQuery) {
      const q = JSON.parse(r.body).device_keys as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const u of Object.keys(q)) out[u] = deviceKeys[u] ?? {};
      await machine.markRequestAsSent(r.id, r.type, JSON.stringify({ device_keys: out, failures: {} }));
    }
  }
}

async function claim(machine: any, users: any[]): Promise<void> {
  const req = await machine.getMissingSessions(users);
  if (!req) return;
  const body = JSON.parse(req.body).one_time_keys as Record<string, Record<string, string>>;
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [u, devices] of Object.entries(body))
    for (const d of Object.keys(devices)) {
      const id = Object.keys(otks[u] ?? {})[0];
      if (id === undefined) continue;
      (out[u] ??= {})[d] = { [id]: otks[u]![id] };
      delete otks[u]![id];
    }
  await machine.markRequestAsSent(req.id, req.type, JSON.stringify({ one_time_keys: out, failures: {} }));
}

function rssMiB(): number {
  global.gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

function diskKiB(path: string): number {
  let total = 0;
  for (const f of readdirSync(path, { recursive: true })) {
    const s = statSync(join(path, String(f)));
    if (s.isFile()) total += s.size;
  }
  return total / 1024;
}

async function main(): Promise<void> {
  const BOT = "@bot:bench";
  const bot = await sdk.OlmMachine.initialize(
    new sdk.UserId(BOT),
    new sdk.DeviceId("BOTDEV"),
    join(dir, "bot"),
    "",
    0,
  );
  await serve(BOT, bot);

  // Puppet devices.
  const rss0 = rssMiB();
  const puppets: { user: string; machine: any }[] = [];
  const t0 = performance.now();
  for (let i = 0; i < DEVICES; i++) {
    const user = `@puppet${i}:bench`;
    const machine = await sdk.OlmMachine.initialize(
      new sdk.UserId(user),
      new sdk.DeviceId(`DEV${i}`),
      join(dir, `p${i}`),
      "",
      0,
    );
    await serve(user, machine);
    puppets.push({ user, machine });
  }
  const setupMs = (performance.now() - t0) / DEVICES;
  await sdk.flushStores();
  const perDeviceMiB = (rssMiB() - rss0) / DEVICES;
  const perDeviceDiskKiB = diskKiB(join(dir, "p0"));

  // Encrypted portals: each room's puppet shares a Megolm session with the bot's device.
  const rss1 = rssMiB();
  const events: { room: string; event: string }[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const { user, machine } = puppets[r % puppets.length]!;
    const room = `!room${r}:bench`;
    const members = [new sdk.UserId(BOT), new sdk.UserId(user)];
    await machine.updateTrackedUsers(members);
    await serve(user, machine);
    await claim(machine, members);
    const shares = await machine.shareRoomKey(new sdk.RoomId(room), members, new sdk.EncryptionSettings());
    const toDevice: unknown[] = [];
    for (const s of shares) {
      const messages = JSON.parse(s.body).messages as Record<string, Record<string, unknown>>;
      for (const content of Object.values(messages[BOT] ?? {}))
        toDevice.push({ type: s.eventType, sender: user, content });
      await machine.markRequestAsSent(s.txnId, s.type, "{}");
    }
    await bot.receiveSyncChanges(
      JSON.stringify(toDevice),
      new sdk.DeviceLists([], []),
      { signed_curve25519: 50 },
      [],
    );
    events.push({ room, event: "" });
  }
  await sdk.flushStores();
  const perRoomKiB = ((rssMiB() - rss1) * 1024) / ROOMS;
  // The bot's store holds every room's inbound session; a save rewrites it whole.
  const botStoreKiB = diskKiB(join(dir, "bot"));

  // Per message: encrypt as the puppet, decrypt as the bot.
  const { user, machine } = puppets[0]!;
  const room = new sdk.RoomId("!room0:bench");
  const sealed: string[] = [];
  const t1 = performance.now();
  const members = [new sdk.UserId(BOT), new sdk.UserId(user)];
  for (let m = 0; m < MESSAGES; m++) {
    // As bot-sdk does before each message: share the room key (nothing to do until the session
    // rotates, every 100 messages by default; encrypting with an expired session panics).
    const shares = await machine.shareRoomKey(room, members, new sdk.EncryptionSettings());
    const toDevice: unknown[] = [];
    for (const s of shares) {
      const messages = JSON.parse(s.body).messages as Record<string, Record<string, unknown>>;
      for (const c of Object.values(messages[BOT] ?? {}))
        toDevice.push({ type: s.eventType, sender: user, content: c });
      await machine.markRequestAsSent(s.txnId, s.type, "{}");
    }
    if (toDevice.length > 0)
      await bot.receiveSyncChanges(
        JSON.stringify(toDevice),
        new sdk.DeviceLists([], []),
        { signed_curve25519: 50 },
        [],
      );
    const content = await machine.encryptRoomEvent(
      room,
      "m.room.message",
      JSON.stringify({ msgtype: "m.text", body: `message ${m}` }),
    );
    sealed.push(
      JSON.stringify({
        type: "m.room.encrypted",
        event_id: `$e${m}`,
        sender: user,
        room_id: "!room0:bench",
        origin_server_ts: Date.now(),
        content: JSON.parse(content),
      }),
    );
  }
  const encryptUs = ((performance.now() - t1) * 1000) / MESSAGES;
  const t2 = performance.now();
  for (const e of sealed) await bot.decryptRoomEvent(e, room);
  const decryptUs = ((performance.now() - t2) * 1000) / MESSAGES;
  const t3 = performance.now();
  await sdk.flushStores();
  const flushMs = performance.now() - t3;

  const wasmVersion = (
    JSON.parse(
      readFileSync(
        join(__dirname, "..", "node_modules", "@matrix-org", "matrix-sdk-crypto-wasm", "package.json"),
        "utf8",
      ),
    ) as { version: string }
  ).version;
  console.log(`crypto bench (wasm ${wasmVersion}, Node ${process.version})`);
  console.log(
    `  puppet device: ${perDeviceMiB.toFixed(2)} MiB RSS each (${DEVICES} devices), ${perDeviceDiskKiB.toFixed(0)} KiB on disk, set up in ${setupMs.toFixed(0)} ms`,
  );
  console.log(
    `  encrypted portal (Megolm session puppet -> bot): ${perRoomKiB.toFixed(0)} KiB RSS each (${ROOMS} rooms)`,
  );
  console.log(
    `  the bot's store with ${ROOMS} rooms' keys: ${botStoreKiB.toFixed(0)} KiB on disk (each save rewrites it)`,
  );
  console.log(
    `  per message: share-if-needed + encrypt ${encryptUs.toFixed(0)} µs, decrypt ${decryptUs.toFixed(0)} µs (${MESSAGES} messages); saving the stores after them ${flushMs.toFixed(0)} ms`,
  );
  for (const p of puppets) await p.machine.close();
  await bot.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
