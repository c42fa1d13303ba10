// SPDX-License-Identifier: Apache-2.0
/**
 * Test harness for the reference server's HTTP side: a fresh world, the control API and the HTTP
 * server on 127.0.0.1 port 0, all closed when the test ends; plus raw-HTTP helpers written from
 * PROFILE.md's point of view (sign-in, tokens, SOAP, ActiveSync).
 */
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { request } from "undici";
import { XMLParser } from "fast-xml-parser";
import { ControlApi } from "../../../refserver/control.js";
import { startHttpServer, type HttpServerOptions } from "../../../refserver/http/server.js";
import { encodeEasQuery } from "../../../refserver/http/eas-query.js";
import { decodeWbxml, encodeWbxml, type WbxmlElement } from "../../../refserver/http/wbxml.js";
import { SCOPES, World, type Person } from "../../../refserver/world.js";

export const CLIENT_ID = "00000000480BC46C";
export const FIXTURES = resolve(__dirname, "../../../refserver/fixtures/default.yaml");

export interface Env {
  world: World;
  url: string;
  controlUrl: string;
  person(id: string): Person;
  /** Calls the control API; returns status and JSON. */
  control(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
}

/** Starts a world, control API and HTTP server; everything is closed after the test. */
export async function startEnv(t: TestContext, options?: Partial<HttpServerOptions>): Promise<Env> {
  const world = World.fromFile(FIXTURES);
  const control = new ControlApi();
  const server = await startHttpServer(world, control, options);
  t.after(() => server.close());
  const controlUrl = await control.listen(0);
  t.after(() => control.close());
  return {
    world,
    url: server.url,
    controlUrl,
    person: (id) => world.mustFind(id),
    async control(method, path, body) {
      const r = await request(`${controlUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.statusCode, json: await r.body.json() };
    },
  };
}

/** The authorize query of PROFILE §2.1. */
export function authorizeQuery(env: Env, extra: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({
    client_id: CLIENT_ID,
    scope: SCOPES.skype,
    response_type: "token",
    redirect_uri: `${env.url}/oauth20_desktop.srf`,
    state: "999",
    locale: "en",
    ...extra,
  });
}

/** Decodes the HTML entities a form attribute may hold. */
export function htmlUnescape(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

export interface SignInPage {
  status: number;
  html: string;
  ppft: string;
  /** The form action, HTML-unescaped. */
  action: string;
  rawAction: string;
  /** `MSPOK=…` for a Cookie header. */
  cookie: string;
}

/** Reads a page holding the sign-in form. */
export function formOf(status: number, html: string, cookie: string): SignInPage {
  const ppft = /<input type="hidden" name="PPFT" value="([^"]*)">/.exec(html)?.[1];
  const rawAction = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  assert.ok(ppft !== undefined && rawAction !== undefined, "page has the PPFT form");
  return { status, html, ppft: htmlUnescape(ppft), action: htmlUnescape(rawAction), rawAction, cookie };
}

/** `GET /oauth20_authorize.srf`. */
export async function authorize(env: Env, query = authorizeQuery(env)): Promise<SignInPage> {
  const r = await request(`${env.url}/oauth20_authorize.srf?${query.toString()}`);
  const html = await r.body.text();
  const setCookie = String(r.headers["set-cookie"] ?? "");
  const cookie = /^(MSPOK=[^;]*)/.exec(setCookie)?.[1] ?? "";
  assert.equal(r.statusCode, 200, html);
  return formOf(r.statusCode, html, cookie);
}

/** Posts the sign-in form. */
export async function postLogin(
  action: string,
  fields: Record<string, string>,
  cookie?: string,
): Promise<{ status: number; location?: string; html: string }> {
  const r = await request(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  const html = await r.body.text();
  const loc = r.headers.location;
  return { status: r.statusCode, location: typeof loc === "string" ? loc : undefined, html };
}

/** The password flow end to end; returns the fragment's fields. */
export async function signIn(env: Env, login: string, passwd: string): Promise<URLSearchParams> {
  const page = await authorize(env);
  const r = await postLogin(page.action, { login, passwd, PPFT: page.ppft }, page.cookie);
  assert.equal(r.status, 302, r.html);
  const loc = r.location ?? "";
  assert.ok(loc.startsWith(`${env.url}/oauth20_desktop.srf#`), loc);
  return new URLSearchParams(loc.slice(loc.indexOf("#") + 1));
}

/** The token endpoint's JSON (success or error fields). */
export interface TokenReply {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: string;
  user_id: string;
  error?: string;
  error_description?: string;
}

/** `POST /oauth20_token.srf`. */
export async function tokenRequest(
  env: Env,
  fields: Record<string, string>,
): Promise<{ status: number; json: TokenReply }> {
  const r = await request(`${env.url}/oauth20_token.srf`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await r.body.text();
  const json = text.startsWith("{") ? JSON.parse(text) : { error: `not JSON: ${text.slice(0, 80)}` };
  return { status: r.statusCode, json: json as TokenReply };
}

/** Walks nested objects by key; undefined when a step is missing. */
export function dig(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path)
    cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

/** The string at a path (an XML element's text, also when it has attributes). */
export function str(v: unknown, ...path: string[]): string | undefined {
  const x = dig(v, ...path);
  if (typeof x === "string") return x;
  const t = dig(x, "#text");
  return typeof t === "string" ? t : undefined;
}

/** The value at a path as a list (a repeated XML element is an array, a single one is not). */
export function list(v: unknown, ...path: string[]): unknown[] {
  const x = dig(v, ...path);
  return x === undefined ? [] : Array.isArray(x) ? (x as unknown[]) : [x];
}

export const xml = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, parseTagValue: false });

/** A SOAP request envelope as PROFILE §4 / REFERENCE §12.1 describe it. */
export function soapEnvelope(
  op: string,
  ticket: string,
  inner: string,
  opts: { cacheKey?: string } = {},
): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook">` +
    `<ApplicationId>F6D2794D-501F-443A-ADBE-8F1490FF30FD</ApplicationId><IsMigration>false</IsMigration>` +
    `<PartnerScenario>Initial</PartnerScenario>${opts.cacheKey ? `<CacheKey>${opts.cacheKey}</CacheKey>` : ""}` +
    `</ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook">` +
    `<ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>${ticket.replace(/&/g, "&amp;")}</TicketToken>` +
    `</ABAuthHeader></soap:Header><soap:Body><${op} xmlns="http://www.msn.com/webservices/AddressBook">${inner}</${op}></soap:Body></soap:Envelope>`
  );
}

/** Posts a SOAP request; `action` defaults to the matching SOAPAction (null sends none). */
export async function soap(
  env: Env,
  service: "sharing" | "ab",
  op: string,
  body: string,
  action: string | null = `http://www.msn.com/webservices/AddressBook/${op}`,
): Promise<{ status: number; text: string; doc: unknown; fault?: string }> {
  const path = service === "sharing" ? "/abservice/SharingService.asmx" : "/abservice/abservice.asmx";
  const r = await request(`${env.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "text/xml; charset=utf-8",
      ...(action !== null ? { soapaction: `"${action}"` } : {}),
    },
    body,
  });
  const text = await r.body.text();
  const doc = text.startsWith("<") ? xml.parse(text) : undefined;
  return {
    status: r.statusCode,
    text,
    doc,
    fault: str(doc, "Envelope", "Body", "Fault", "detail", "errorcode"),
  };
}

/** A contacts.msn.com token for a person, straight from the world. */
export function ticket(env: Env, who: string, scope: string = SCOPES.contacts): string {
  return env.world.issueTokens(env.person(who), scope).access_token;
}

/** Base64 query of PROFILE §4 (protocol 14.0, `Skype-<10 digits>`, `ClassicSkype`). */
export function easQuery(command: number, deviceId = "Skype-3026547794"): string {
  return encodeEasQuery({
    protocolVersion: 140,
    command,
    locale: 0x0409,
    deviceId,
    deviceType: "ClassicSkype",
    params: [],
  });
}

/** Posts an ActiveSync command; decodes a WBXML reply with the server's codec. */
export async function eas(
  env: Env,
  token: string | undefined,
  command: number,
  doc: WbxmlElement | Buffer,
  query = easQuery(command),
): Promise<{ status: number; doc?: WbxmlElement; text?: string }> {
  const r = await request(`${env.url}/Microsoft-Server-ActiveSync?${encodeURIComponent(query)}`, {
    method: "POST",
    headers: {
      "content-type": "application/vnd.ms-sync.wbxml",
      ...(token !== undefined ? { authorization: `RPSToken ${token}` } : {}),
    },
    body: Buffer.isBuffer(doc) ? doc : encodeWbxml(doc),
  });
  const buf = Buffer.from(await r.body.arrayBuffer());
  if (r.headers["content-type"] === "application/vnd.ms-sync.wbxml")
    return { status: r.statusCode, doc: decodeWbxml(buf) };
  return { status: r.statusCode, text: buf.toString("utf8") };
}
