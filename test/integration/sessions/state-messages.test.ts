// The plain-words state messages: one per state, with what to do; never raw protocol text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeRefreshTokenStore, describeState } from "../../../src/sessions/state-messages.js";
import { AuthError, MsnpError, SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

const account = { skypename: "live:alice_1", email: "alice@hotmail.co.uk" };
const NOW = 1_700_000_000_000;

test("connected and connecting name the account", () => {
  assert.deepEqual(describeState({ kind: "connected" }, account, NOW), {
    text: "Connected to Skype as live:alice_1.",
    alert: false,
  });
  assert.equal(
    describeState({ kind: "connected" }, { email: "alice@hotmail.co.uk" }, NOW).text,
    "Connected to Skype as alice@hotmail.co.uk.",
  );
  assert.equal(describeState({ kind: "connected" }, {}, NOW).text, "Connected to Skype.");
  assert.deepEqual(describeState({ kind: "connecting" }, account, NOW), {
    text: "Connecting to Skype as live:alice_1…",
    alert: false,
  });
});

test("transient disconnects say when the bridge retries and do not alert", () => {
  const network = new SkypeError(SkypeErrorCode.Network, "read ECONNRESET at 10.0.0.1", true);
  assert.deepEqual(
    describeState({ kind: "transient_disconnect", retryAt: NOW + 30_000, error: network }, account, NOW),
    { text: "Lost the connection to Skype; reconnecting in 30 s.", alert: false },
  );
  assert.equal(
    describeState({ kind: "transient_disconnect", retryAt: NOW + 29_001 }, account, NOW).text,
    "Lost the connection to Skype; reconnecting in 30 s.",
  );
  assert.equal(
    describeState({ kind: "transient_disconnect", retryAt: NOW - 5 }, account, NOW).text,
    "Lost the connection to Skype; reconnecting now.",
  );
  assert.equal(
    describeState({ kind: "transient_disconnect", retryAt: NOW + 300_000 }, account, NOW).text,
    "Lost the connection to Skype; reconnecting in 5 min.",
  );
  const out = new SkypeError(SkypeErrorCode.SignedOut, "signed out by the server (OUT 0 CON 3 SSD)", true);
  assert.equal(
    describeState({ kind: "transient_disconnect", retryAt: NOW + 1000, error: out }, account, NOW).text,
    "Skype's server closed the connection; reconnecting in 1 s.",
  );
  const ath = new MsnpError(911, "ATH CON\\USER refused with 911: Authentication failed: ticket expired");
  const text = describeState({ kind: "transient_disconnect", retryAt: NOW, error: ath }, account, NOW).text;
  assert.equal(text, "Skype asked the bridge to sign in again; reconnecting now.");
});

test("bad credentials alert and tell the user to log in", () => {
  const e = new AuthError(
    SkypeErrorCode.BadCredentials,
    "the saved sign-in is no longer valid (invalid_grant)",
  );
  assert.deepEqual(describeState({ kind: "bad_credentials", error: e }, account, NOW), {
    text: "Skype no longer accepts your sign-in. Send `login` to sign in again.",
    alert: true,
  });
});

test("logged out: a message per reason, with a fallback", () => {
  const oth = describeState({ kind: "logged_out", reason: "OTH" }, account, NOW);
  assert.equal(oth.alert, true);
  assert.match(oth.text, /^You signed in to Skype elsewhere with this bridge's endpoint/);
  assert.match(oth.text, /Send `login`/);
  const logout = describeState({ kind: "logged_out", reason: "logout" }, account, NOW);
  assert.equal(logout.alert, false);
  assert.match(logout.text, /forgotten your sign-in/);
  assert.equal(describeState({ kind: "logged_out", reason: "stopped" }, account, NOW).alert, false);
  const other = describeState({ kind: "logged_out", reason: "toString" }, account, NOW);
  assert.deepEqual(other, {
    text: "You are signed out of Skype. Send `login` to sign in again.",
    alert: true,
  });
});

test("no raw protocol text or secret ever appears", () => {
  const raw = new SkypeError(
    SkypeErrorCode.Msnp,
    "715 7 MSGR Registration: abc.secret.cookie t=EwAtoken",
    false,
  );
  const states = [
    { kind: "transient_disconnect", retryAt: NOW, error: raw },
    { kind: "bad_credentials", error: raw },
    { kind: "logged_out", reason: "715 Registration: abc.secret.cookie" },
  ] as const;
  for (const s of states) {
    const { text } = describeState(s, account, NOW);
    for (const bad of ["715", "Registration", "secret", "EwA", "MSGR"]) assert.ok(!text.includes(bad), text);
  }
});

test("a refresh token that could not be stored alerts and says what it means; a stored one reassures", () => {
  const lost = describeRefreshTokenStore({ saved: false });
  assert.equal(lost.alert, true);
  assert.match(lost.text, /could not save/);
  assert.match(lost.text, /restart/);
  assert.match(lost.text, /`login`/);
  assert.deepEqual(describeRefreshTokenStore({ saved: true }), {
    text: "Your Skype sign-in is saved again: a restart will reconnect you by itself.",
    alert: false,
  });
});
