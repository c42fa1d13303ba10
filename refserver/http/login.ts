// SPDX-License-Identifier: Apache-2.0
/**
 * The sign-in server (`login` base, PROFILE §2.1, §2.4, §5 "Sign-in"): the authorize page with a
 * single-use PPFT and the `MSPOK` cookie, the password post, the desktop landing page and the token
 * endpoint with refresh-token rotation and OAuth error kinds.
 */
import { randomBytes } from "node:crypto";
import { SCOPES, type Person } from "../world.js";
import { CLIENT_ID, type HttpContext, type HttpRequest, type Route } from "./context.js";
import { htmlReply, jsonReply, parseCookies, parseForm, type Reply } from "./http-util.js";
import { desktopPage, errorPage, secondFactorPage, signInPage, wrongPasswordPage } from "./login-pages.js";

/** How long a PPFT can be posted back. */
const PPFT_LIFETIME_MS = 15 * 60 * 1000;
/** Outstanding PPFTs kept at most (oldest dropped first). */
const PPFT_MAX = 10_000;

interface PpftRecord {
  mspok: string;
  /** The authorize query, normalised (sorted pairs) for comparison. */
  query: string;
  /** The authorize query as received, echoed in the form action. */
  rawQuery: string;
  scope: string;
  state: string | undefined;
  expiresAt: number;
}

const KNOWN_SCOPES = new Set<string>(Object.values(SCOPES));

/** Order-insensitive form of a query string: a post "with the same query" may re-encode it. */
function normaliseQuery(params: URLSearchParams): string {
  return JSON.stringify([...params].sort((a, b) => (a[0] + "\0" + a[1] < b[0] + "\0" + b[1] ? -1 : 1)));
}

/** Encodes a fragment value; `:` stays as is, as in login.live.com's own fragments. */
function fragValue(v: string): string {
  return encodeURIComponent(v).replace(/%3A/gi, ":");
}

function badRequest(message: string): Reply {
  return htmlReply(400, errorPage(message));
}

/** The sign-in pages; PPFTs live as long as the server. */
class SignIn {
  private readonly ppfts = new Map<string, PpftRecord>();

  constructor(private readonly ctx: HttpContext) {}

  private issuePpft(rec: Omit<PpftRecord, "expiresAt">): string {
    // Real PPFTs hold characters that must be form-encoded (+ / = ! * $), never HTML-special ones.
    const ppft = "D" + randomBytes(36).toString("base64") + "!*$";
    this.ppfts.set(ppft, { ...rec, expiresAt: this.ctx.world.now() + PPFT_LIFETIME_MS });
    while (this.ppfts.size > PPFT_MAX) {
      const oldest = this.ppfts.keys().next().value;
      if (oldest === undefined) break;
      this.ppfts.delete(oldest);
    }
    return ppft;
  }

  private actionFor(rawQuery: string): string {
    return `${this.ctx.baseUrl()}/ppsecure/post.srf?${rawQuery}`;
  }

  /** `GET /oauth20_authorize.srf`: the form with a fresh PPFT, and the `MSPOK` cookie. */
  authorize(rq: HttpRequest): Reply {
    const q = rq.url.searchParams;
    const scope = q.get("scope") ?? "";
    rq.note({ clientId: q.get("client_id"), scope, state: q.get("state") });
    if (q.get("client_id") !== CLIENT_ID) return badRequest("unknown client_id");
    if (q.get("response_type") !== "token") return badRequest("response_type must be token");
    if (q.get("redirect_uri") !== `${this.ctx.baseUrl()}/oauth20_desktop.srf`) {
      return badRequest("redirect_uri does not match the registered one");
    }
    if (!KNOWN_SCOPES.has(scope)) return badRequest("unknown scope");
    const mspok = "$uuid-" + randomBytes(16).toString("hex");
    const rawQuery = rq.url.search.slice(1);
    const state = q.get("state") ?? undefined;
    const ppft = this.issuePpft({ mspok, query: normaliseQuery(q), rawQuery, scope, state });
    return htmlReply(200, signInPage(this.actionFor(rawQuery), ppft), { "set-cookie": mspokCookie(mspok) });
  }

  /** `POST /ppsecure/post.srf`: PPFT, cookie and query checks, then the credentials. */
  post(rq: HttpRequest): Reply {
    const form = parseForm(rq.body.toString("utf8"));
    const ppft = form.get("PPFT") ?? "";
    const rec = this.ppfts.get(ppft);
    // Single use: a PPFT is spent as soon as it is presented, whatever happens next.
    this.ppfts.delete(ppft);
    if (!rec || rec.expiresAt <= this.ctx.world.now()) {
      rq.note({ outcome: "bad_ppft" });
      return badRequest("The sign-in form has expired or was already used (PPFT).");
    }
    if (parseCookies(rq.headers.cookie).get("MSPOK") !== rec.mspok) {
      rq.note({ outcome: "no_mspok" });
      return badRequest("The MSPOK cookie is missing.");
    }
    if (normaliseQuery(rq.url.searchParams) !== rec.query) {
      rq.note({ outcome: "query_mismatch" });
      return badRequest("The post's query differs from the authorize query.");
    }
    const login = (form.get("login") ?? "").trim();
    const person = login ? this.ctx.world.find(login) : undefined;
    rq.note({ user: person?.key ?? null });
    if (!person?.email || person.password === undefined || person.password !== form.get("passwd")) {
      rq.note({ outcome: "wrong_password" });
      const page = wrongPasswordPage(
        this.ctx.options,
        this.actionFor(rec.rawQuery),
        this.issuePpft({ ...rec }),
      );
      return htmlReply(200, page, { "set-cookie": mspokCookie(rec.mspok) });
    }
    if (person.twoFactor) {
      rq.note({ outcome: "second_factor" });
      return htmlReply(200, secondFactorPage(this.ctx.options));
    }
    rq.note({ outcome: "ok" });
    return this.success(person, rec);
  }

  /** The 302 to the desktop page with the token fragment. */
  private success(p: Person, rec: PpftRecord): Reply {
    const t = this.ctx.world.issueTokens(p, rec.scope);
    const fields: [string, string][] = [
      ["access_token", t.access_token],
      ["token_type", "bearer"],
      ["expires_in", String(t.expires_in)],
      ["scope", t.scope],
      ["refresh_token", t.refresh_token],
    ];
    if (rec.state !== undefined) fields.push(["state", rec.state]);
    fields.push(["user_id", t.user_id]);
    const fragment = fields.map(([k, v]) => `${k}=${fragValue(v)}`).join("&");
    const location = `${this.ctx.baseUrl()}/oauth20_desktop.srf#${fragment}`;
    return { status: 302, headers: { location, "cache-control": "no-store" }, body: "" };
  }
}

function mspokCookie(mspok: string): string {
  return `MSPOK=${mspok}; path=/; HttpOnly`;
}

/** The sign-in routes. */
export function loginRoutes(ctx: HttpContext): Map<string, Route> {
  const signIn = new SignIn(ctx);
  const desktop = (rq: HttpRequest): Reply =>
    htmlReply(200, desktopPage(rq.url.searchParams.get("error") ?? undefined));
  const routes = new Map<string, Route>();
  routes.set("/oauth20_authorize.srf", {
    endpoint: "authorize",
    methods: ["GET"],
    handler: (rq) => signIn.authorize(rq),
  });
  routes.set("/ppsecure/post.srf", { endpoint: "post", methods: ["POST"], handler: (rq) => signIn.post(rq) });
  routes.set("/oauth20_desktop.srf", { endpoint: "desktop", methods: ["GET"], handler: desktop });
  routes.set("/oauth20_token.srf", { endpoint: "token", methods: ["POST"], handler: (rq) => token(ctx, rq) });
  return routes;
}

function oauthError(error: string, description: string): Reply {
  return jsonReply(400, { error, error_description: description });
}

/** `POST /oauth20_token.srf`: a refresh token for a scoped token and a new refresh token (PROFILE §2.4). */
function token(ctx: HttpContext, rq: HttpRequest): Reply {
  const form = parseForm(rq.body.toString("utf8"));
  const scope = form.get("scope") ?? "";
  rq.note({ grantType: form.get("grant_type") ?? null, scope });
  if (form.get("client_id") !== CLIENT_ID) return oauthError("invalid_client", "The client does not exist.");
  if (form.get("grant_type") !== "refresh_token") {
    return oauthError("unsupported_grant_type", "The provided grant type is not supported.");
  }
  if (!KNOWN_SCOPES.has(scope)) return oauthError("invalid_scope", "The provided scope is not valid.");
  const issued = ctx.world.redeemRefresh(form.get("refresh_token") ?? "", scope);
  if (!issued) {
    rq.note({ outcome: "invalid_grant" });
    return oauthError(
      "invalid_grant",
      "The provided value for the input parameter 'refresh_token' is not valid.",
    );
  }
  rq.note({ outcome: "ok", user: ctx.world.people.get(personKeyOf(ctx, issued.user_id))?.key ?? null });
  return jsonReply(200, {
    token_type: "bearer",
    expires_in: issued.expires_in,
    scope: issued.scope,
    access_token: issued.access_token,
    refresh_token: issued.refresh_token,
    user_id: issued.user_id,
  });
}

function personKeyOf(ctx: HttpContext, cid: string): string {
  return ctx.world.findByCid(cid)?.key ?? "";
}
