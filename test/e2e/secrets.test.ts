// SPDX-License-Identifier: Apache-2.0
/**
 * No secret reaches a log line, the database holds refresh tokens only as ciphertext, and a wrong
 * token key stops the bridge with a clear message.
 *
 * The secrets are harvested from the reference server (in this process) as it hands them out, so
 * the check covers every value the bridge ever held: the World's access and refresh tokens and
 * UICs, MSNP registration cookies, and everything the HTTP side sent (PPFTs, MSPOK and other
 * cookies, tokens in redirects and JSON). Added to them: every fixture password, the appservice
 * registration's as_token/hs_token, and the token key. This MSNP24-era profile has no skypetoken.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { ServerResponse, type OutgoingHttpHeaders } from "node:http";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import yaml from "js-yaml";
import { MsnpConnection as ServerConnection } from "../../refserver/msnp/connection.js";
import type { IssuedToken, Person } from "../../refserver/world.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ROOT = resolve(__dirname, "..", "..");
const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

/** Every secret value seen, by kind (the kind is only for the report). */
const secrets = new Map<string, string>();
function keep(kind: string, value: string | undefined): void {
  // The first kind wins: the World's spies name a token before the HTTP harvest sees it again.
  if (value && value.length >= 6 && !secrets.has(value)) secrets.set(value, kind);
}

// ——— Harvesting what the reference server hands out (installed before anything starts) ———

const cookieProto = ServerConnection.prototype as unknown as { newCookie: (this: unknown) => string };
const newCookie = cookieProto.newCookie;
cookieProto.newCookie = function (this: unknown): string {
  const cookie = newCookie.call(this);
  keep("MSNP registration cookie", cookie);
  return cookie;
};

/** Pulls secret-looking values out of an HTTP response the reference server sent. */
function harvestResponse(headers: OutgoingHttpHeaders, body: string): void {
  const setCookie = headers["set-cookie"];
  for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [String(setCookie)] : []) {
    keep(`cookie ${c.split("=")[0]}`, /^[^=]+=([^;]*)/.exec(c)?.[1]);
  }
  const location = headers["location"];
  if (typeof location === "string") {
    const u = new URL(location, "http://x");
    for (const params of [u.searchParams, new URLSearchParams(u.hash.slice(1))]) {
      for (const [k, v] of params) if (/_token$|^code$|uic/i.test(k)) keep(`redirect ${k}`, v);
    }
  }
  for (const m of body.matchAll(/name="PPFT"[^>]*value="([^"]+)"/g)) keep("PPFT", m[1]);
  if (body.startsWith("{")) {
    try {
      const json = JSON.parse(body) as Record<string, unknown>;
      for (const [k, v] of Object.entries(json))
        if (/token$|^uic$|ticket/i.test(k) && typeof v === "string") keep(k, v);
    } catch {
      // Not JSON after all.
    }
  }
}

const proto = ServerResponse.prototype as unknown as {
  writeHead: (this: ServerResponse, status: number, ...rest: unknown[]) => ServerResponse;
  end: (this: ServerResponse, ...args: unknown[]) => ServerResponse;
};
const writeHead = proto.writeHead;
const end = proto.end;
proto.writeHead = function (status, ...rest) {
  const headers = rest.find((r) => typeof r === "object" && r !== null) as OutgoingHttpHeaders | undefined;
  if (headers) harvestResponse(lowerKeys(headers), "");
  return writeHead.call(this, status, ...rest);
};
proto.end = function (...args) {
  const chunk = args[0];
  const body = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
  harvestResponse(this.getHeaders(), body.length < 1 << 20 ? body : "");
  return end.apply(this, args);
};

function lowerKeys(h: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The forms a secret can take in a log line: as is, URL-encoded, JSON-escaped, or a slice of it. */
function forms(secret: string): string[] {
  const out = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  // A truncated or "redacted to a prefix" token still leaks its middle.
  if (secret.length >= 24) out.add(secret.slice(6, 22));
  return [...out];
}

function hitsIn(lines: readonly string[]): { line: string; kind: string }[] {
  const hits: { line: string; kind: string }[] = [];
  for (const line of lines) {
    for (const [secret, kind] of secrets) {
      if (forms(secret).some((f) => line.includes(f))) hits.push({ line: line.slice(0, 300), kind });
    }
  }
  return hits;
}

/** Bodies of the chat messages alice's Skype account sent to bob. */
function storedFromAlice(env: E2EEnv): string[] {
  return env.skype.msnp
    .storedMessages({ user: "alice@hotmail.co.uk", conversation: BOB })
    .filter((m) => m.from === ALICE_SKYPE)
    .map((m) => m.content);
}

describe("secrets: logs, database and the token key", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let tokenKey: string;
  const refreshTokens = new Set<string>();

  before(async () => {
    env = await E2EEnv.create();
    // The harness keeps the key private; it is a secret like the others (runtime field access).
    tokenKey = (env as unknown as { tokenKey: string }).tokenKey;
    keep("token key", tokenKey);
    const world = env.skype.world;
    const issue = world.issueTokens.bind(world);
    world.issueTokens = (p: Person, scope: string): IssuedToken => {
      const t = issue(p, scope);
      keep("access token", t.access_token);
      keep("refresh token", t.refresh_token);
      refreshTokens.add(t.refresh_token);
      return t;
    };
    const issueUic = world.issueUic.bind(world);
    world.issueUic = (p: Person, nonce: string): string => {
      const uic = issueUic(p, nonce);
      keep("UIC", uic);
      return uic;
    };
    for (const p of world.people.values()) keep(`password of ${p.key}`, p.password);
    const reg = yaml.load(readFileSync(env.registrationPath, "utf8")) as Record<string, string>;
    keep("as_token", reg.as_token);
    keep("hs_token", reg.hs_token);
    human = await env.human("alice");
  });
  after(async () => {
    await env?.close();
  });

  test("login with the fixture password, chat both ways, restart, chat again", async () => {
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    const { room } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE_SKYPE,
      text: "S1 before the restart",
      senderPattern: /bob/,
    });
    await human.sendText(room, "M1 before the restart");
    await waitFor(() => storedFromAlice(env).includes("M1 before the restart"), { what: "M1 on Skype" });

    await env.stopBridge("SIGTERM");
    await env.startBridge();
    await waitFor(() => env.skypeOnline(ALICE_SKYPE), { what: "alice back online", timeoutMs: 60_000 });
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "S2 after the restart" });
    await human.waitForEvent(
      (e) => e.room_id === room && e.content.body === "S2 after the restart",
      "S2 in Matrix",
    );
    await human.sendText(room, "M2 after the restart");
    await waitFor(() => storedFromAlice(env).includes("M2 after the restart"), { what: "M2 on Skype" });
  });

  test("no secret in any line the bridge wrote", (t) => {
    const kinds = new Set(secrets.values());
    for (const k of [
      "access token",
      "refresh token",
      "UIC",
      "MSNP registration cookie",
      "PPFT",
      "cookie MSPOK",
    ]) {
      assert.ok(kinds.has(k), `the harvest found no ${k}: the check would be vacuous`);
    }
    // The detector itself: a planted token, or its middle, is found.
    const sample = [...secrets].find(([, k]) => k === "refresh token")![0];
    assert.equal(hitsIn([`INFO x ${sample} y`, `token=${sample.slice(3, 30)}…`]).length, 2);
    const hits = hitsIn(env.bridgeLines);
    t.diagnostic(
      `secrets check: ${env.bridgeLines.length} log lines, ${secrets.size} secrets ` +
        `(${[...kinds].sort().join(", ")}), ${hits.length} hits`,
    );
    assert.deepEqual(hits, []);
  });

  test("refresh tokens in the database are ciphertext; no secret is in the file in clear", async (t) => {
    await env.stopBridge("SIGTERM");
    const path = join(env.dir, "bridge.db");
    const db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.prepare("SELECT mxid, refresh_token_enc FROM users").all() as {
      mxid: string;
      refresh_token_enc: string | null;
    }[];
    db.close();
    const stored = rows.filter((r) => r.refresh_token_enc !== null);
    assert.ok(stored.length >= 1, "alice's refresh token is stored");
    for (const r of stored) {
      assert.match(r.refresh_token_enc!, /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/=]+$/);
      for (const rt of refreshTokens) assert.ok(!r.refresh_token_enc!.includes(rt));
    }
    let bytes = 0;
    for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
      if (!existsSync(file)) continue;
      const content = readFileSync(file);
      bytes += content.length;
      for (const [secret, kind] of secrets) {
        assert.ok(!content.includes(secret), `${file} holds a ${kind} in clear`);
      }
    }
    t.diagnostic(
      `${stored.length} encrypted refresh token(s); ${bytes} database bytes searched for ${secrets.size} secrets`,
    );
  });

  test("a wrong token key stops the bridge with a clear message; the right key still works", async (t) => {
    const wrongKey = "f".repeat(64);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src", "main.ts"), "-c", env.configPath, "-f", env.registrationPath],
      {
        cwd: ROOT,
        env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: wrongKey },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    t.diagnostic(`exit ${code}: ${output.trim().split("\n").pop()}`);
    assert.equal(code, 1);
    assert.match(output, /key is wrong/);
    assert.ok(!output.includes(wrongKey) && !output.includes(tokenKey), "no key in the message");
    assert.deepEqual(hitsIn(output.split("\n")), []);

    await env.startBridge();
    await waitFor(() => env.skypeOnline(ALICE_SKYPE), {
      what: "alice online with the right key",
      timeoutMs: 60_000,
    });
    const hits = hitsIn(env.bridgeLines);
    t.diagnostic(
      `after the last start: ${env.bridgeLines.length} log lines, ${secrets.size} secrets, ${hits.length} hits`,
    );
    assert.deepEqual(hits, []);
  });
});
