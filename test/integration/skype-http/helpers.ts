// Shared set-up of the client ↔ reference-server integration tests: a fresh world, the reference
// server's HTTP side on 127.0.0.1:0, and an undici Agent, all closed when the test ends.
import { resolve } from "node:path";
import type { TestContext } from "node:test";
import { Agent, request } from "undici";
import { startHttpServer } from "../../../refserver/http/server.js";
import { World } from "../../../refserver/world.js";
import type { SkypeEndpoints } from "../../../src/skype/model.js";
import type { SkypeLogger } from "../../../src/skype/log.js";
import { authorizeUrl } from "../../../src/skype/auth/authorize.js";
import { findFormAction, findHiddenInput } from "../../../src/skype/auth/html.js";

export const FIXTURES = resolve(__dirname, "../../../refserver/fixtures/default.yaml");

export interface RefEnv {
  world: World;
  url: string;
  endpoints: SkypeEndpoints;
  dispatcher: Agent;
  /** Every log line the client wrote, to check that no secret leaks. */
  logLines: string[];
  logger: SkypeLogger;
}

type ServerOptions = Parameters<typeof startHttpServer>[2];

/** Starts the reference server for one test and registers its shutdown. */
export async function startRef(t: TestContext, options?: ServerOptions): Promise<RefEnv> {
  const world = World.fromFile(FIXTURES);
  const server = await startHttpServer(world, undefined, options);
  const dispatcher = new Agent({ connections: 8 });
  t.after(async () => {
    await dispatcher.close();
    await server.close();
  });
  const url = server.url.replace(/\/+$/, "");
  const endpoints: SkypeEndpoints = {
    login: url,
    api: url,
    skype_login: url,
    abch: url,
    activesync: url,
    msnp: "127.0.0.1:9",
    msnpTls: false,
  };
  const logLines: string[] = [];
  const sink = (level: string) => (message: string, context?: Record<string, unknown>) => {
    logLines.push(`${level} ${message} ${JSON.stringify(context ?? {})}`);
  };
  const logger: SkypeLogger = {
    debug: sink("debug"),
    info: sink("info"),
    warn: sink("warn"),
    error: sink("error"),
  };
  return { world, url, endpoints, dispatcher, logLines, logger };
}

/** Asserts that none of `secrets` appears in any of `texts`. */
export function assertNoSecrets(texts: string[], secrets: string[]): void {
  for (const text of texts) {
    for (const s of secrets) {
      if (s && text.includes(s)) throw new Error(`a secret leaked into: ${text.slice(0, 200)}`);
    }
  }
}

/**
 * Plays the user's browser for the browser flow: opens the authorize URL with `state`, signs in, and
 * returns the final address (the `Location` of the last redirect) that the user would paste.
 */
export async function browserSignIn(
  env: RefEnv,
  email: string,
  password: string,
  state: string,
): Promise<string> {
  const page = await request(authorizeUrl(env.endpoints, state), { dispatcher: env.dispatcher });
  const html = await page.body.text();
  const setCookie = page.headers["set-cookie"];
  const cookie = (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [])
    .map((c) => c.split(";")[0])
    .join("; ");
  const action = new URL(findFormAction(html)!, env.url).toString();
  const post = await request(action, {
    dispatcher: env.dispatcher,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({
      login: email,
      passwd: password,
      PPFT: findHiddenInput(html, "PPFT")!,
    }).toString(),
  });
  await post.body.dump();
  const location = post.headers.location;
  if (post.statusCode !== 302 || typeof location !== "string")
    throw new Error(`browser sign-in got ${post.statusCode}`);
  return new URL(location, env.url).toString();
}
