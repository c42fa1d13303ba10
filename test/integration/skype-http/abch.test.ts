import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoSecrets, startRef, type RefEnv } from "./helpers.js";
import { loginWithPassword } from "../../../src/skype/auth/login-process.js";
import { TokenManager, TokenScope } from "../../../src/skype/tokens.js";
import { AddressBookClient } from "../../../src/skype/soap/address-book.js";
import { SoapFaultError } from "../../../src/skype/errors.js";

async function bookFor(env: RefEnv, email: string, password: string) {
  const http = { dispatcher: env.dispatcher, logger: env.logger };
  const login = await loginWithPassword(env.endpoints, email, password, http);
  const tokens = new TokenManager({ ...http, endpoints: env.endpoints, refreshToken: login.refreshToken });
  return { tokens, book: new AddressBookClient(env.endpoints, tokens, http), login };
}

const fault = (code: string) => (e: unknown) =>
  e instanceof SoapFaultError && e.faultCode === code && !e.retryable;

test("pending requests, accept, and the duplicate fault", async (t) => {
  const env = await startRef(t);
  const { book } = await bookFor(env, "alice@hotmail.co.uk", "wonderland");
  assert.deepEqual(await book.findPendingRequests(), [
    { mri: "1:carol@live.com", displayName: "Carol Ånström", message: "Hi Alice, it's Carol from work" },
  ]);
  await book.acceptRequest("1:carol@live.com");
  assert.deepEqual(await book.findPendingRequests(), []);
  const alice = env.world.find("alice@hotmail.co.uk")!;
  assert.ok(alice.contacts.has("carol@live.com"));
  await assert.rejects(book.acceptRequest("carol@live.com"), fault("MemberAlreadyExists"));
});

test("decline, and declining again is MemberDoesNotExist", async (t) => {
  const env = await startRef(t);
  const { book } = await bookFor(env, "alice@hotmail.co.uk", "wonderland");
  await book.declineRequest("carol@live.com");
  assert.deepEqual(await book.findPendingRequests(), []);
  assert.ok(!env.world.find("alice@hotmail.co.uk")!.contacts.has("carol@live.com"));
  await assert.rejects(book.declineRequest("carol@live.com"), fault("MemberDoesNotExist"));
});

test("blocked list, block and unblock with their faults", async (t) => {
  const env = await startRef(t);
  const { book } = await bookFor(env, "alice@hotmail.co.uk", "wonderland");
  assert.deepEqual(
    (await book.findBlockedContacts()).map((b) => b.mri),
    ["8:live:mallory"],
  );
  await book.block("8:live:bob_1");
  assert.deepEqual((await book.findBlockedContacts()).map((b) => b.mri).sort(), [
    "8:live:bob_1",
    "8:live:mallory",
  ]);
  await assert.rejects(book.block("bob@outlook.com"), fault("MemberAlreadyExists"));
  await book.unblock("bob@outlook.com");
  await book.unblock("8:live:mallory");
  assert.deepEqual(await book.findBlockedContacts(), []);
  await assert.rejects(book.unblock("8:live:mallory"), fault("MemberDoesNotExist"));
});

test("a contact request reaches the other side with its text; the duplicate is ContactAlreadyExists", async (t) => {
  const env = await startRef(t);
  const { book } = await bookFor(env, "bob@outlook.com", "canwefixit");
  await book.sendContactRequest("8:live:carol_7", {
    message: "Hello from Bob <3 & co",
    ownDisplayName: "Bob",
  });
  const carol = await bookFor(env, "carol@live.com", "carolpass");
  const pending = await carol.book.findPendingRequests();
  assert.deepEqual(pending, [
    { mri: "1:bob@outlook.com", displayName: "Bob Builder", message: "Hello from Bob <3 & co" },
  ]);
  await carol.book.acceptRequest(pending[0]!.mri);
  await assert.rejects(book.sendContactRequest("carol@live.com"), fault("ContactAlreadyExists"));
  await assert.rejects(
    book.sendContactRequest("nobody@nowhere.example"),
    (e: unknown) => e instanceof SoapFaultError,
  );
});

test("PassportAuthFail renews the ticket once and retries", async (t) => {
  const env = await startRef(t);
  const { book, tokens } = await bookFor(env, "alice@hotmail.co.uk", "wonderland");
  const before = await tokens.getToken(TokenScope.Contacts);
  env.world.expireAccess(env.world.find("alice@hotmail.co.uk")!);
  assert.equal((await book.findBlockedContacts()).length, 1);
  assert.notEqual(await tokens.getToken(TokenScope.Contacts), before);
  assert.ok(env.logLines.some((l) => l.includes("renewing")));
  assertNoSecrets(env.logLines, [before]);
});

test("the CacheKey the server changed is kept per service", async (t) => {
  const env = await startRef(t);
  const { book } = await bookFor(env, "alice@hotmail.co.uk", "wonderland");
  await book.findPendingRequests();
  await book.findBlockedContacts();
  const state = book.exportState();
  // Each service that said CacheKeyChanged has its own key (values are opaque).
  for (const key of Object.values(state.cacheKeys)) assert.equal(typeof key, "string");
  await book.findPendingRequests(); // echoing the key is accepted
});

test("removing a contact (DeleteMember Allow) takes it out of both address books", async (t) => {
  const env = await startRef(t);
  const { book } = await bookFor(env, "alice@hotmail.co.uk", "wonderland");
  await book.removeContact("8:dave.lister");
  assert.ok(!env.world.find("alice@hotmail.co.uk")!.contacts.has("dave.lister"));
  await assert.rejects(book.removeContact("dave.lister"), fault("MemberDoesNotExist"));
});
