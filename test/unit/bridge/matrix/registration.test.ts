import { test } from "node:test";
import assert from "node:assert/strict";
import { generateRegistration } from "../../../../src/bridge/matrix/registration.js";
import { puppetMxid } from "../../../../src/bridge/ghosts/ids.js";

const reg = generateRegistration({
  id: "skype",
  url: "http://127.0.0.1:29330",
  botLocalpart: "skypebot",
  domain: "example.org",
  localpartTemplate: "skype_{id}",
});

test("registration has random 64-hex tokens and no rate limit", () => {
  assert.match(reg.as_token, /^[0-9a-f]{64}$/);
  assert.match(reg.hs_token, /^[0-9a-f]{64}$/);
  assert.notEqual(reg.as_token, reg.hs_token);
  assert.equal(reg.rate_limited, false);
});

test("registration asks for ephemeral events with exactly one flag (encryption off)", () => {
  assert.equal(reg.receive_ephemeral, true);
  assert.equal(reg["de.sorunome.msc2409.push_ephemeral"], undefined);
  assert.equal(reg["org.matrix.msc3202"], undefined);
});

test("with encryption on, registration asks for the MSC3202 and MSC2409 transaction extensions", () => {
  const encrypted = generateRegistration({
    id: "skype",
    url: "http://127.0.0.1:29330",
    botLocalpart: "skypebot",
    domain: "example.org",
    localpartTemplate: "skype_{id}",
    encryption: true,
  });
  assert.equal(encrypted.receive_ephemeral, true);
  assert.equal(encrypted["de.sorunome.msc2409.push_ephemeral"], true);
  assert.equal(encrypted["org.matrix.msc3202"], true);
});

test("exclusive namespaces cover the bot and the puppets, nobody else", () => {
  const users = reg.namespaces.users;
  assert.ok(users.every((u) => u.exclusive));
  const matches = (mxid: string): boolean => users.some((u) => new RegExp(u.regex).test(mxid));
  assert.ok(matches("@skypebot:example.org"));
  assert.ok(matches(puppetMxid("skype_{id}", "8:live:alice_1", "example.org")));
  assert.ok(!matches("@alice:example.org"));
  assert.ok(!matches("@skypebot2:example.org"));
  assert.ok(!matches("@skype_x:other.org"));
});
