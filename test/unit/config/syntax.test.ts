import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bindAddressProblem,
  hostPortProblem,
  httpUrlProblem,
  isMxid,
  normalizeBaseUrl,
  serverNameProblem,
  tokenKeyKind,
  tokenKeyProblem,
} from "../../../src/config/syntax.js";

void test("http(s) base URLs", () => {
  for (const ok of [
    "http://127.0.0.1:8090",
    "https://login.live.com",
    "http://[::1]:8008/",
    "https://a.b/base/",
  ]) {
    assert.equal(httpUrlProblem(ok), null, ok);
  }
  for (const bad of [
    "",
    "login.live.com",
    "ftp://a.b",
    "http://u:p@a.b",
    "http://a.b/?q=1",
    "http://a.b#f",
    "http://a.b?",
  ]) {
    assert.notEqual(httpUrlProblem(bad), null, bad);
  }
  assert.equal(normalizeBaseUrl("http://127.0.0.1:8090/"), "http://127.0.0.1:8090");
  assert.equal(normalizeBaseUrl("https://a.b/base//"), "https://a.b/base");
});

void test("host:port", () => {
  for (const ok of ["127.0.0.1:1863", "s.gateway.messenger.live.com:443", "[::1]:1863", "localhost:1"]) {
    assert.equal(hostPortProblem(ok), null, ok);
  }
  for (const bad of [
    "127.0.0.1",
    "::1:1863",
    "host:0",
    "host:65536",
    "host:",
    ":1863",
    "bad host:1",
    "h:12a",
  ]) {
    assert.notEqual(hostPortProblem(bad), null, bad);
  }
});

void test("server names and bind addresses", () => {
  for (const ok of [
    "localhost",
    "example.org",
    "localhost:8448",
    "1.2.3.4",
    "[::1]",
    "[::1]:8448",
    "EXAMPLE.org",
  ]) {
    assert.equal(serverNameProblem(ok), null, ok);
  }
  for (const bad of [
    "",
    "example..org",
    "-a.org",
    "exa mple.org",
    "example.org:",
    "example.org:x",
    "::1",
    "a_b.org",
  ]) {
    assert.notEqual(serverNameProblem(bad), null, bad);
  }
  for (const ok of ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"])
    assert.equal(bindAddressProblem(ok), null, ok);
  assert.notEqual(bindAddressProblem("not an address"), null);
});

void test("MXIDs", () => {
  assert.ok(isMxid("@alice:example.org"));
  assert.ok(isMxid("@skype_8=3alive:localhost:8448"));
  assert.ok(!isMxid("alice:example.org"));
  assert.ok(!isMxid("@alice"));
  assert.ok(!isMxid("@alice:"));
  assert.ok(!isMxid("@al ice:example.org"));
});

void test("token keys: 64 hex digits or a passphrase of 16+ characters", () => {
  const hex = "aB".repeat(32);
  assert.equal(tokenKeyProblem(hex), null);
  assert.equal(tokenKeyKind(hex), "hex");
  assert.equal(tokenKeyProblem("sixteen chars ok"), null);
  assert.equal(tokenKeyKind("sixteen chars ok"), "passphrase");
  assert.equal(tokenKeyKind("a".repeat(63)), "passphrase");
  assert.equal(tokenKeyProblem("ünïcödé-pässphrá"), null);
  assert.notEqual(tokenKeyProblem("fifteen chars!!"), null);
  assert.notEqual(tokenKeyProblem(" padded passphrase "), null);
  assert.notEqual(tokenKeyProblem(""), null);
});
