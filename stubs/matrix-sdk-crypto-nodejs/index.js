"use strict";
// Stand-in for @matrix-org/matrix-sdk-crypto-nodejs (whose install downloads a native binary from
// GitHub, which our machines cannot reach), built on the registry's WebAssembly build of the same
// Rust crypto, @matrix-org/matrix-sdk-crypto-wasm (pinned in the root package.json).
//
// It implements the part of the native binding's API that @vector-im/matrix-bot-sdk
// 0.7.1-element.11 uses (e2ee/CryptoClient.js, e2ee/RustEngine.js), translating where the two
// bindings differ:
// - OlmMachine.initialize(user, device, storePath, passphrase, storeType): the wasm build takes a
//   store name and passphrase and keeps the store in IndexedDB; here storePath names a directory
//   the store is saved to (idb-persist.js) and the database, and the passphrase, when bot-sdk
//   passes none (it always passes ""), comes from setStorePassphrase();
// - receiveSyncChanges takes the one-time-key counts as a Map and fallback key types as a Set,
//   and returns the processed to-device events instead of a JSON string;
// - decryptRoomEvent needs DecryptionSettings;
// - ToDeviceRequest's fields are event_type/txn_id (eventType/txnId natively);
// - Signatures.get() returns a Map (an object natively) whose MaybeSignature.isValid is a method;
// - exportRoomKeysForSession is missing (emulated with exportRoomKeys and a filter);
// - wasm-bindgen takes ownership of UserId[] arguments (the objects are freed by the call), while
//   bot-sdk passes the same array to several calls: every such argument is cloned first.
const path = require("node:path");
const wasm = require("@matrix-org/matrix-sdk-crypto-wasm");
const persist = require("./idb-persist.js");

const StoreType = Object.freeze({ Sqlite: 0, Sled: 1 });
const RequestType = Object.freeze({
  KeysUpload: 0,
  KeysQuery: 1,
  KeysClaim: 2,
  ToDevice: 3,
  SignatureUpload: 4,
  RoomMessage: 5,
  KeysBackup: 6,
});

/** (storePath) => passphrase, used when bot-sdk passes none. */
let passphraseFor = () => "";
/** Sets how store passphrases are derived (the bridge derives them from its own secret). */
function setStorePassphrase(fn) {
  passphraseFor = fn;
}

const cloneUsers = (users) => Array.from(users, (u) => u.clone());

/** A ToDeviceRequest with the native binding's field names. */
function nativeToDevice(request) {
  return {
    id: request.id,
    type: request.type,
    body: request.body,
    eventType: request.event_type,
    txnId: request.txn_id,
  };
}

/** wasm's Signatures with the native shape of get(): an object of key id -> signature. */
class NativeSignatures {
  constructor(inner) {
    this.inner = inner;
  }
  get(userId) {
    const map = this.inner.get(userId);
    if (!map) return undefined;
    const out = {};
    for (const [keyId, maybe] of map) {
      out[keyId] = { isValid: maybe.isValid(), isInvalid: maybe.isInvalid(), signature: maybe.signature };
    }
    return out;
  }
  get count() {
    return this.inner.count;
  }
  asJSON() {
    return this.inner.asJSON();
  }
}

class OlmMachine {
  constructor(inner, storePath, staleStore) {
    this.inner = inner;
    this.storePath = storePath;
    /** Rooms whose outbound Megolm session may have been rolled back by a crash (see idb-persist.js). */
    this.roomsToRotate = staleStore ? "all" : undefined;
    this.rotated = new Set();
  }

  /**
   * Opens (or creates) the machine. `storePath` is a directory: the store is saved there and
   * loaded from there at the next start. Without a store path the store is in memory only.
   */
  static async initialize(userId, deviceId, storePath, passphrase, _storeType) {
    if (!storePath) return new OlmMachine(await wasm.OlmMachine.initialize(userId, deviceId), undefined, false);
    const dir = path.resolve(storePath);
    const stale = await persist.attach(dir, dir + "::");
    const inner = await wasm.OlmMachine.initialize(
      userId,
      deviceId,
      dir,
      passphrase || passphraseFor(dir) || undefined,
    );
    await persist.flush(dir + "::");
    return new OlmMachine(inner, dir, stale.length > 0);
  }

  get userId() {
    return this.inner.userId;
  }
  get deviceId() {
    return this.inner.deviceId;
  }
  get identityKeys() {
    return this.inner.identityKeys;
  }
  get roomKeyRequestsEnabled() {
    return this.inner.roomKeyRequestsEnabled;
  }
  set roomKeyRequestsEnabled(v) {
    this.inner.roomKeyRequestsEnabled = v;
  }

  /** Saves this machine's store now. */
  flush() {
    return this.storePath ? persist.flush(this.storePath + "::") : Promise.resolve();
  }

  async outgoingRequests() {
    const requests = await this.inner.outgoingRequests();
    // A keys upload carries one-time keys whose private halves must be on disk before the
    // server hands them out.
    if (requests.some((r) => r.type === RequestType.KeysUpload)) await this.flush();
    return requests.map((r) => (r.type === RequestType.ToDevice ? nativeToDevice(r) : r));
  }

  async markRequestAsSent(requestId, requestType, response) {
    const result = await this.inner.markRequestAsSent(requestId, requestType, response);
    return result;
  }

  /**
   * Native: (toDeviceEvents JSON, DeviceLists, otk counts object, fallback key types array) ->
   * JSON of [to-device events, room key changes]. The to-device events are returned decrypted.
   */
  async receiveSyncChanges(toDeviceEvents, changedDevices, oneTimeKeyCounts, unusedFallbackKeys) {
    const counts = new Map(Object.entries(oneTimeKeyCounts ?? {}).map(([k, v]) => [k, Number(v)]));
    const fallbacks = unusedFallbackKeys ? new Set(unusedFallbackKeys) : undefined;
    const processed = await this.inner.receiveSyncChanges(
      typeof toDeviceEvents === "string" ? toDeviceEvents : JSON.stringify(toDeviceEvents),
      changedDevices ?? new wasm.DeviceLists(),
      counts,
      fallbacks,
      new wasm.DecryptionSettings(wasm.TrustRequirement.Untrusted),
    );
    const events = [];
    for (const p of processed) {
      if (p.type === wasm.ProcessedToDeviceEventType.Invalid) continue;
      try {
        events.push(JSON.parse(p.rawEvent));
      } catch {
        // not JSON: nothing to hand on
      }
    }
    // Room keys just received are what later messages decrypt with: keep them.
    if (processed.length > 0) await this.flush();
    return JSON.stringify([events, []]);
  }

  updateTrackedUsers(users) {
    return this.inner.updateTrackedUsers(cloneUsers(users));
  }

  getMissingSessions(users) {
    return this.inner.getMissingSessions(cloneUsers(users));
  }

  async shareRoomKey(roomId, users, settings) {
    const room = roomId.toString();
    if (this.roomsToRotate === "all" && !this.rotated.has(room)) {
      // The store was restored from a save older than the last run's writes: its outbound
      // session may be behind what was already sent; never reuse its message indexes.
      await this.inner.invalidateGroupSession(new wasm.RoomId(room));
      this.rotated.add(room);
    }
    const requests = await this.inner.shareRoomKey(roomId, cloneUsers(users), settings);
    // The outbound session must be on disk before its key reaches anyone.
    if (requests.length > 0) await this.flush();
    return requests.map(nativeToDevice);
  }

  encryptRoomEvent(roomId, eventType, content) {
    return this.inner.encryptRoomEvent(roomId, eventType, content);
  }

  async decryptRoomEvent(event, roomId) {
    return this.inner.decryptRoomEvent(
      event,
      roomId,
      new wasm.DecryptionSettings(wasm.TrustRequirement.Untrusted),
    );
  }

  async sign(message) {
    return new NativeSignatures(await this.inner.sign(message));
  }

  async exportRoomKeysForSession(roomId, sessionId) {
    return this.inner.exportRoomKeys(
      (session) => session.roomId.toString() === roomId && session.sessionId === sessionId,
    );
  }

  exportRoomKeys(predicate) {
    return this.inner.exportRoomKeys(predicate ?? (() => true));
  }

  invalidateGroupSession(roomId) {
    return this.inner.invalidateGroupSession(roomId);
  }

  enableBackupV1(publicKey, version) {
    return this.inner.enableBackupV1(publicKey, version);
  }
  disableBackup() {
    return this.inner.disableBackup();
  }
  backupRoomKeys() {
    return this.inner.backupRoomKeys();
  }

  /** Saves the store and releases the machine. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    if (this.storePath) await persist.detach(this.storePath + "::");
    this.inner.close();
  }
}

/** Native: Attachment.encrypt returns { mediaEncryptionInfo, encryptedData }, readable at will. */
const Attachment = {
  encrypt(data) {
    const encrypted = wasm.Attachment.encrypt(new Uint8Array(data));
    const encryptedData = encrypted.encryptedData;
    const mediaEncryptionInfo = encrypted.mediaEncryptionInfo;
    return { encryptedData, mediaEncryptionInfo };
  },
  decrypt(attachment) {
    return wasm.Attachment.decrypt(attachment);
  },
};

class EncryptedAttachment {
  constructor(encryptedData, mediaEncryptionInfo) {
    return new wasm.EncryptedAttachment(new Uint8Array(encryptedData), mediaEncryptionInfo);
  }
}

module.exports = {
  available: true,
  OlmMachine,
  UserId: wasm.UserId,
  DeviceId: wasm.DeviceId,
  RoomId: wasm.RoomId,
  DeviceLists: wasm.DeviceLists,
  EncryptionSettings: wasm.EncryptionSettings,
  EncryptionAlgorithm: wasm.EncryptionAlgorithm,
  HistoryVisibility: wasm.HistoryVisibility,
  Attachment,
  EncryptedAttachment,
  RequestType,
  StoreType,
  setStorePassphrase,
  /** Saves every crypto store now (call on shutdown). */
  flushStores: () => persist.flush(),
  persistence: persist,
  wasm,
};
