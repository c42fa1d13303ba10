// SPDX-License-Identifier: Apache-2.0
// Double puppeting: what the bridge sends as a real user is marked, and marked events are recognised;
// only linked users get a client, from their own token first, else the server's secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DOUBLE_PUPPET_SOURCE,
  DoublePuppets,
  isDoublePuppeted,
  markDoublePuppeted,
} from "../../../../src/bridge/matrix/double-puppet.js";
import type { Config } from "../../../../src/config/schema.js";
import type { Store } from "../../../../src/store/types.js";

void test("sends and redactions are marked; other bodies and paths are left alone", () => {
  const send = "/_matrix/client/v3/rooms/!r%3Ax/send/m.room.message/t1";
  assert.deepEqual(markDoublePuppeted(send, { body: "hi" }, "skype"), {
    body: "hi",
    [DOUBLE_PUPPET_SOURCE]: "skype",
  });
  const redact = "/_matrix/client/v3/rooms/!r%3Ax/redact/%24e/t2";
  assert.deepEqual(markDoublePuppeted(redact, {}, "skype"), { [DOUBLE_PUPPET_SOURCE]: "skype" });
  const receipt = "/_matrix/client/v3/rooms/!r%3Ax/receipt/m.read/%24e";
  assert.deepEqual(markDoublePuppeted(receipt, {}, "skype"), {});
  assert.equal(markDoublePuppeted(send, null, "skype"), null);
  assert.ok(isDoublePuppeted({ body: "x", [DOUBLE_PUPPET_SOURCE]: "skype" }, "skype"));
  assert.ok(!isDoublePuppeted({ body: "x", [DOUBLE_PUPPET_SOURCE]: "other-bridge" }, "skype"));
  assert.ok(!isDoublePuppeted({ body: "x" }, "skype"));
  assert.ok(!isDoublePuppeted(null, "skype"));
});

function fakeStore(users: Record<string, string | undefined>): Store {
  return {
    users: {
      get: (mxid: string) => (mxid in users ? { mxid } : undefined),
      getMatrixToken: (mxid: string) => users[mxid],
      setMatrixToken: (mxid: string, token: string | null) => {
        users[mxid] = token ?? undefined;
      },
    },
  } as unknown as Store;
}

const config = (secrets: Record<string, string>): Config =>
  ({
    homeserver: { url: "http://127.0.0.1:1", domain: "example.org" },
    double_puppet: { secrets },
  }) as unknown as Config;

void test("only linked users get a client: their own token first, else the server's as_token", () => {
  const users: Record<string, string | undefined> = {
    "@alice:example.org": undefined,
    "@bob:example.org": "tok",
  };
  const dp = new DoublePuppets(config({ "example.org": "as_token:secret" }), fakeStore(users), "skype");
  assert.equal(dp.mode("@alice:example.org"), "secret");
  assert.equal(dp.mode("@bob:example.org"), "token");
  assert.ok(dp.enabled("@alice:example.org"));
  // A puppet (not a linked user) is never acted for, though the secret's namespace covers it.
  assert.equal(dp.clientFor("@skype_8=3abob:example.org"), undefined);
  assert.equal(dp.logout("@bob:example.org"), true);
  assert.equal(dp.mode("@bob:example.org"), "secret");
  const off = new DoublePuppets(
    config({ "other.org": "as_token:secret" }),
    fakeStore({ "@alice:example.org": undefined }),
    "skype",
  );
  assert.equal(off.enabled("@alice:example.org"), false);
});
