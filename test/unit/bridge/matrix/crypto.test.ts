// SPDX-License-Identifier: Apache-2.0
/** The crypto part of appservice transactions, under each name homeservers have used for it. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cryptoPartOf } from "../../../../src/bridge/matrix/crypto.js";

const toDevice = [
  { type: "m.room.encrypted", sender: "@h:x", to_user_id: "@skype_a:x", to_device_id: "D", content: {} },
];
const counts = { "@skype_a:x": { D: { signed_curve25519: 50 } } };
const fallbacks = { "@skype_a:x": { D: ["signed_curve25519"] } };

test("Synapse's names: de.sorunome to-device, org.matrix.msc3202 counts, fallbacks and device lists (changed/left)", () => {
  const part = cryptoPartOf({
    events: [],
    "de.sorunome.msc2409.to_device": toDevice,
    "org.matrix.msc3202.device_one_time_key_counts": counts,
    "org.matrix.msc3202.device_one_time_keys_count": counts,
    "org.matrix.msc3202.device_unused_fallback_key_types": fallbacks,
    "org.matrix.msc3202.device_lists": { changed: ["@h:x"], left: ["@gone:x"] },
  });
  assert.deepEqual(part, { toDevice, otks: counts, fallbacks, changed: ["@h:x"], left: ["@gone:x"] });
});

test("stable names win over unstable ones; org.matrix.msc2409 to-device and bot-sdk's `removed` are read", () => {
  const stable = cryptoPartOf({
    to_device: toDevice,
    "de.sorunome.msc2409.to_device": [],
    device_one_time_keys_count: counts,
    "org.matrix.msc3202.device_one_time_keys_count": {},
    device_unused_fallback_key_types: fallbacks,
    device_lists: { changed: ["@h:x"], removed: ["@gone:x"] },
  });
  assert.deepEqual(stable, { toDevice, otks: counts, fallbacks, changed: ["@h:x"], left: ["@gone:x"] });
  assert.deepEqual(cryptoPartOf({ "org.matrix.msc2409.to_device": toDevice }).toDevice, toDevice);
});

test("a transaction without a crypto part, or with malformed fields, yields nothing", () => {
  assert.deepEqual(cryptoPartOf({ events: [] }), {
    toDevice: [],
    otks: undefined,
    fallbacks: undefined,
    changed: [],
    left: [],
  });
  const odd = cryptoPartOf({
    to_device: "x",
    device_lists: { changed: [1, "@h:x"], left: "no" },
    device_one_time_keys_count: [],
  });
  assert.deepEqual(odd, { toDevice: [], otks: undefined, fallbacks: undefined, changed: ["@h:x"], left: [] });
});
