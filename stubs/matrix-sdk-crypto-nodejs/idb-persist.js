"use strict";
// Persistence for the IndexedDB store of @matrix-org/matrix-sdk-crypto-wasm on Node.
//
// The wasm build keeps its crypto store (Olm account, sessions, Megolm keys, device lists) in
// IndexedDB only. Node has none, so fake-indexeddb provides it in memory and this module saves
// each database to a file and loads it back before the store opens:
// - restore(dir, prefix): before OlmMachine.initialize, every database saved in `dir` whose name
//   starts with `prefix` is recreated (same version, object stores, indexes, records);
// - every write (put/add/delete/clear on an object store) marks its database dirty and schedules
//   a save after SAVE_DELAY_MS (writes come in bursts: a sync response touches many records);
// - flush() saves every dirty database now (the machine wrapper calls it before anything it
//   wrote can be relied on by someone else: keys about to be uploaded, room keys about to be
//   shared, to-device events processed), and on shutdown.
// A file is written whole to a temporary name, fsynced and renamed over the old one, so a crash
// leaves either the previous save or the new one, never a torn file.
//
// What a crash between two saves can lose: the writes made since the last save, i.e. at most
// SAVE_DELAY_MS of background changes (the flush points above cover what others rely on). Each
// database also gets a `<file>.dirty` marker from its first unsaved write until it is saved; a
// restore that finds one reports the database as possibly stale (see `staleAfterRestore`), and the
// machine wrapper then starts a new Megolm session in each room before its first message, so a
// rolled-back outbound session never reuses a message index.
//
// Values are the wasm store's own records: with a store passphrase they are encrypted (and keys
// hashed) by the store itself, so the files hold no secret in clear.
const fs = require("node:fs");
const fsp = require("node:fs/promises");
const path = require("node:path");
const v8 = require("node:v8");
const { createHash } = require("node:crypto");
const fake = require("fake-indexeddb");

const SAVE_DELAY_MS = 250;
const FILE_SUFFIX = ".idb";

// The wasm build looks IndexedDB up on the global object; only install ours when there is none
// (a test may bring its own).
if (!globalThis.indexedDB) {
  for (const name of [
    "indexedDB",
    "IDBCursor",
    "IDBCursorWithValue",
    "IDBDatabase",
    "IDBFactory",
    "IDBIndex",
    "IDBKeyRange",
    "IDBObjectStore",
    "IDBOpenDBRequest",
    "IDBRequest",
    "IDBTransaction",
    "IDBVersionChangeEvent",
  ]) {
    if (fake[name] !== undefined) globalThis[name] = fake[name];
  }
}

/** database name -> { dir, timer, saving (promise), dirtyAgain } for databases we persist. */
const tracked = new Map();
/** database names restored from a save that had unsaved writes when the process stopped. */
const staleAfterRestore = new Set();
let lastError;

function fileFor(dir, dbName) {
  return path.join(dir, createHash("sha256").update(dbName).digest("hex").slice(0, 32) + FILE_SUFFIX);
}

function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function txDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

// Marks databases dirty on every write. The wasm store only writes through these four methods.
const storeProto = globalThis.IDBObjectStore.prototype;
for (const method of ["put", "add", "delete", "clear"]) {
  const original = storeProto[method];
  storeProto[method] = function (...args) {
    const result = original.apply(this, args);
    markDirty(this.transaction.db.name);
    return result;
  };
}

function markDirty(dbName) {
  const entry = tracked.get(dbName);
  if (!entry) return;
  if (entry.saving) entry.dirtyAgain = true;
  if (!entry.dirty) {
    entry.dirty = true;
    // The marker says "this file may be behind"; written synchronously so that a crash right
    // after this write still finds it.
    try {
      fs.writeFileSync(entry.file + ".dirty", "");
    } catch (e) {
      lastError = e;
    }
  }
  if (!entry.timer) {
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void saveDatabase(dbName).catch((e) => (lastError = e));
    }, SAVE_DELAY_MS);
    entry.timer.unref?.();
  }
}

async function openExisting(dbName) {
  return req(globalThis.indexedDB.open(dbName));
}

/** Reads a whole database into a plain, structured-cloneable snapshot. */
async function snapshot(dbName) {
  const db = await openExisting(dbName);
  try {
    const names = Array.from(db.objectStoreNames);
    const out = { name: dbName, version: db.version, stores: [] };
    if (names.length === 0) return out;
    const tx = db.transaction(names, "readonly");
    const done = txDone(tx);
    const reads = names.map(async (name) => {
      const store = tx.objectStore(name);
      const indexes = Array.from(store.indexNames).map((n) => {
        const index = store.index(n);
        return { name: n, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
      });
      const [keys, values] = await Promise.all([req(store.getAllKeys()), req(store.getAll())]);
      return {
        name,
        keyPath: store.keyPath,
        autoIncrement: store.autoIncrement,
        indexes,
        records: keys.map((k, i) => [k, values[i]]),
      };
    });
    out.stores = await Promise.all(reads);
    await done;
    return out;
  } finally {
    db.close();
  }
}

async function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await fsp.open(tmp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, file);
}

async function saveDatabase(dbName) {
  const entry = tracked.get(dbName);
  if (!entry) return;
  while (entry.saving) await entry.saving.catch(() => undefined);
  if (!entry.dirty) return;
  if (entry.timer) {
    clearTimeout(entry.timer);
    entry.timer = undefined;
  }
  entry.dirtyAgain = false;
  entry.saving = (async () => {
    const snap = await snapshot(dbName);
    await writeAtomically(entry.file, v8.serialize(snap));
    if (!entry.dirtyAgain) {
      entry.dirty = false;
      await fsp.rm(entry.file + ".dirty", { force: true });
    }
  })();
  try {
    await entry.saving;
  } finally {
    entry.saving = undefined;
  }
  if (entry.dirty && !entry.timer) await saveDatabase(dbName);
}

/** Saves every dirty database (or those whose name starts with `prefix`) now. */
async function flush(prefix) {
  const names = [...tracked.keys()].filter((n) => prefix === undefined || n.startsWith(prefix));
  await Promise.all(names.map((n) => saveDatabase(n)));
}

async function recreate(snap) {
  const request = globalThis.indexedDB.open(snap.name, snap.version);
  request.onupgradeneeded = () => {
    const db = request.result;
    for (const s of snap.stores) {
      const store = db.createObjectStore(s.name, {
        keyPath: s.keyPath ?? undefined,
        autoIncrement: s.autoIncrement,
      });
      for (const i of s.indexes) store.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
    }
  };
  const db = await req(request);
  try {
    const names = snap.stores.map((s) => s.name);
    if (names.length === 0) return;
    const tx = db.transaction(names, "readwrite");
    const done = txDone(tx);
    for (const s of snap.stores) {
      const store = tx.objectStore(s.name);
      for (const [key, value] of s.records) {
        if (s.keyPath === null || s.keyPath === undefined) store.put(value, key);
        else store.put(value);
      }
    }
    await done;
  } finally {
    db.close();
  }
}

/**
 * Persists the databases named `dbNames` (or any later one starting with `prefix`) under `dir`,
 * first loading those saved there before. Call before the wasm store opens. Returns the names of
 * the databases restored from a possibly stale save (a crash happened after unsaved writes).
 */
async function attach(dir, prefix) {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const stale = [];
  for (const file of await fsp.readdir(dir)) {
    if (!file.endsWith(FILE_SUFFIX)) continue;
    const full = path.join(dir, file);
    const snap = v8.deserialize(await fsp.readFile(full));
    if (typeof snap?.name !== "string" || !snap.name.startsWith(prefix)) continue;
    if (tracked.has(snap.name)) continue; // already open in this process
    const existing = (await globalThis.indexedDB.databases()).some((d) => d.name === snap.name);
    if (!existing) await recreate(snap);
    const isStale = fs.existsSync(full + ".dirty");
    if (isStale) {
      stale.push(snap.name);
      staleAfterRestore.add(snap.name);
    }
    tracked.set(snap.name, { dir, file: fileFor(dir, snap.name), dirty: isStale });
  }
  prefixes.push({ dir, prefix });
  return stale;
}

/** (dir, prefix) pairs: a database created later under a prefix is persisted in its dir. */
const prefixes = [];

// A new database (the store opening for the first time) is tracked from its creation: wrap open.
const factoryProto = Object.getPrototypeOf(globalThis.indexedDB);
const originalOpen = factoryProto.open;
factoryProto.open = function (name, ...rest) {
  if (!tracked.has(name)) {
    const owner = prefixes.find((p) => name.startsWith(p.prefix));
    if (owner) tracked.set(name, { dir: owner.dir, file: fileFor(owner.dir, name), dirty: false });
  }
  return originalOpen.call(this, name, ...rest);
};

/** Stops persisting (and forgets) the databases starting with `prefix`, after saving them. */
async function detach(prefix) {
  await flush(prefix);
  for (const name of [...tracked.keys()]) if (name.startsWith(prefix)) tracked.delete(name);
  for (let i = prefixes.length - 1; i >= 0; i--) if (prefixes[i].prefix === prefix) prefixes.splice(i, 1);
}

module.exports = {
  attach,
  detach,
  flush,
  staleAfterRestore,
  get lastError() {
    return lastError;
  },
  SAVE_DELAY_MS,
};
