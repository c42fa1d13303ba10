// SPDX-License-Identifier: Apache-2.0
/**
 * Generated accounts for load tests and benchmarks: N accounts that can sign in, each with its own
 * contacts, plus a refresh token per account so a bridge can be linked to them without a sign-in
 * page (the benchmark writes the tokens into the bridge's store, as a finished login would).
 *
 * Names are deterministic, so a caller can address any of them without a list:
 * - account `i` (0-based): e-mail `<prefix>-<i>@gen.example`, Skype name `live:<prefix>-<i>`;
 * - its contact `j`: e-mail `<prefix>-<i>-c<j>@gen.example`, Skype name `live:<prefix>-<i>-c<j>`.
 * Contacts are mutual and have both identities (the address book lists them as one person each);
 * they have no password and never sign in unless a caller asks for a token for one.
 *
 * Control routes (loopback, JSON; see ./control.ts):
 * - `POST /world/generate {prefix, count, contacts?, password?}` → `{accounts}` (at most 20,000
 *   accounts and 500 contacts each per call; a prefix already used is refused with 409);
 * - `POST /world/refresh-token {user}` → `{refreshToken}`: a new refresh token for any person.
 */
import { ControlError, type ControlApi } from "./control.js";
import { SCOPES, type Person, type World } from "./world.js";

/** What {@link generateAccounts} makes. */
export interface GenerateSpec {
  /** Lower-case letters and digits, 1–24 characters; every generated name starts with it. */
  prefix: string;
  /** How many accounts (1–20,000). */
  count: number;
  /** Contacts of each account (0–500). Default 50. */
  contacts?: number;
  /** Password of every account. Default `bench-password`. */
  password?: string;
}

/** One generated account, as a linked bridge user needs it. */
export interface GeneratedAccount {
  email: string;
  skypename: string;
  /** `1:<email>` and `8:<skypename>`. */
  identities: [string, string];
  displayName: string;
  password: string;
  /** A refresh token issued now (valid for the world's refresh lifetime). A secret. */
  refreshToken: string;
  /** `8:` identities of its contacts, contact 0 first. */
  contacts: string[];
}

export const GENERATED_DOMAIN = "gen.example";
const MAX_ACCOUNTS = 20_000;
const MAX_CONTACTS = 500;

/** E-mail and Skype name of account `i`, or of its contact `j`. */
export function generatedNames(prefix: string, i: number, j?: number): { email: string; skypename: string } {
  const local = j === undefined ? `${prefix}-${i}` : `${prefix}-${i}-c${j}`;
  return { email: `${local}@${GENERATED_DOMAIN}`, skypename: `live:${local}` };
}

function checkSpec(spec: GenerateSpec): Required<GenerateSpec> {
  const { prefix, count } = spec;
  const contacts = spec.contacts ?? 50;
  const password = spec.password ?? "bench-password";
  if (typeof prefix !== "string" || !/^[a-z0-9]{1,24}$/.test(prefix))
    throw new ControlError(400, "prefix must be 1 to 24 lower-case letters or digits");
  if (!Number.isInteger(count) || count < 1 || count > MAX_ACCOUNTS)
    throw new ControlError(400, `count must be an integer from 1 to ${MAX_ACCOUNTS}`);
  if (!Number.isInteger(contacts) || contacts < 0 || contacts > MAX_CONTACTS)
    throw new ControlError(400, `contacts must be an integer from 0 to ${MAX_CONTACTS}`);
  if (typeof password !== "string" || password.length < 1)
    throw new ControlError(400, "password must be a non-empty string");
  return { prefix, count, contacts, password };
}

/** Adds the accounts and their contacts to the world and issues a refresh token per account. */
export function generateAccounts(world: World, spec: GenerateSpec): GeneratedAccount[] {
  const { prefix, count, contacts, password } = checkSpec(spec);
  if (world.people.has(generatedNames(prefix, 0).email))
    throw new ControlError(409, `accounts with prefix ${prefix} exist already`);
  const out: GeneratedAccount[] = [];
  for (let i = 0; i < count; i++) {
    const names = generatedNames(prefix, i);
    const account = world.addPerson({
      ...names,
      display_name: `Bench User ${prefix} ${i}`,
      first_name: "Bench",
      last_name: `User ${i}`,
      password,
    });
    const mris: string[] = [];
    for (let j = 0; j < contacts; j++) {
      const c = generatedNames(prefix, i, j);
      const contact = world.addPerson({
        ...c,
        display_name: `Contact ${j} of ${prefix} ${i}`,
        first_name: "Contact",
        last_name: `${j} of ${i}`,
      });
      world.makeContacts(account, contact);
      mris.push(`8:${c.skypename}`);
    }
    out.push({
      email: names.email,
      skypename: names.skypename,
      identities: [`1:${names.email}`, `8:${names.skypename}`],
      displayName: account.displayName,
      password,
      refreshToken: world.issueTokens(account, SCOPES.skype).refresh_token,
      contacts: mris,
    });
  }
  return out;
}

function person(world: World, body: Record<string, unknown>, field: string): Person {
  const id = body[field];
  if (typeof id !== "string" || !id.trim()) throw new ControlError(400, `${field} is required`);
  const p = world.find(id);
  if (!p) throw new ControlError(404, `no person ${JSON.stringify(id)}`);
  return p;
}

/** Registers `POST /world/generate` and `POST /world/refresh-token` on the control API. */
export function registerGenerateRoutes(control: ControlApi, world: World): void {
  control.route("POST", "/world/generate", (body) => ({
    accounts: generateAccounts(world, {
      prefix: body.prefix as string,
      count: body.count as number,
      contacts: body.contacts as number | undefined,
      password: body.password as string | undefined,
    }),
  }));
  control.route("POST", "/world/refresh-token", (body) => ({
    refreshToken: world.issueTokens(person(world, body, "user"), SCOPES.skype).refresh_token,
  }));
}
