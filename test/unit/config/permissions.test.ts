import { test } from "node:test";
import assert from "node:assert/strict";
import { permissionFor } from "../../../src/config/index.js";

void test("the most specific entry wins: MXID over server name over *", () => {
  const config = {
    permissions: {
      "*": "user",
      "example.org": "admin",
      "@eve:example.org": "user",
      "@root:other.net": "admin",
    },
  } as const;
  assert.equal(permissionFor(config, "@alice:example.org"), "admin");
  assert.equal(permissionFor(config, "@eve:example.org"), "user");
  assert.equal(permissionFor(config, "@root:other.net"), "admin");
  assert.equal(permissionFor(config, "@bob:other.net"), "user");
});

void test("no matching entry means none", () => {
  const config = { permissions: { "example.org": "user", "@admin:localhost": "admin" } } as const;
  assert.equal(permissionFor(config, "@alice:example.org"), "user");
  assert.equal(permissionFor(config, "@admin:localhost"), "admin");
  assert.equal(permissionFor(config, "@bob:localhost"), "none");
  assert.equal(permissionFor(config, "@alice:sub.example.org"), "none");
});

void test("server names compare case-insensitively, localparts exactly; ports count", () => {
  const config = { permissions: { "Example.ORG": "user", "@Ann:example.org": "admin" } } as const;
  assert.equal(permissionFor(config, "@bob:example.org"), "user");
  assert.equal(permissionFor(config, "@Ann:EXAMPLE.org"), "admin");
  assert.equal(permissionFor(config, "@ann:example.org"), "user");
  assert.equal(permissionFor(config, "@bob:example.org:8448"), "none");
});

void test("an invalid MXID gets none even with *", () => {
  const config = { permissions: { "*": "admin" } } as const;
  for (const bad of ["", "alice", "@alice", "@:example.org", "#room:example.org", "@a b:example.org"]) {
    assert.equal(permissionFor(config, bad), "none", bad);
  }
  assert.equal(permissionFor(config, "@a:example.org"), "admin");
});
