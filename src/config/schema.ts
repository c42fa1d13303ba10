// SPDX-License-Identifier: Apache-2.0
/**
 * The configuration file's JSON schema (ajv 8) and the TypeScript `Config` type. The schema is the
 * source of truth for keys, types and defaults; `Config` is written out so that it can carry
 * documentation, and a compile-time check at the bottom of this file keeps the two identical.
 * Semantic rules the schema cannot express (URL syntax, templates, the token key, …) live in
 * `semantic.ts`.
 */

/** Environment variable that may hold the token-encryption key (it wins over the file). */
export const TOKEN_KEY_ENV = "SKYPE_BRIDGE_TOKEN_KEY";

/** What a Matrix user may do with the bridge. */
export type PermissionLevel = "user" | "admin";
/** Log verbosity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Log line format. */
export type LogFormat = "text" | "json";

/** `homeserver`: the Matrix homeserver the bridge belongs to. */
export interface HomeserverConfig {
  /** Client-server API base URL, http(s), without a trailing slash. */
  url: string;
  /** Server name: the part after `:` in user ids (`example.org`, `localhost:8448`). */
  domain: string;
  /**
   * Where to POST each linked user's bridge state (mautrix bridgev2's `status_endpoint`: JSON with
   * `state_event`, `user_id`, …, authorised with the appservice token). Unset: not sent.
   */
  status_endpoint?: string;
}

/** `appservice`: how the bridge listens and presents itself. */
export interface AppserviceConfig {
  /** Address the bridge's HTTP listener binds to. Default `127.0.0.1`. */
  bind_address: string;
  /** Port of that listener (0 = any free port, for tests). Default 29330. */
  port: number;
  /** Appservice id in the registration. Default `skype`. */
  id: string;
  /** Localpart of the bridge bot. Default `skypebot`. */
  bot_localpart: string;
  /** Display name of the bridge bot. Default `Skype bridge bot`. */
  bot_display_name: string;
  /** Address the homeserver uses to reach the bridge (registration `url`), http(s), no trailing slash. */
  url: string;
}

/** `puppets`: ghost users standing for Skype contacts. */
export interface PuppetsConfig {
  /** Localpart template containing `{id}` exactly once. Default `skype_{id}`. */
  localpart_template: string;
  /** Display name template containing `{name}`. Default `{name} (Skype)`. */
  display_name_template: string;
  /**
   * Mirror Skype presence on the puppets (online / unavailable / offline), refreshed while they are
   * online. Costs one homeserver request per online contact every 25 s. Default true.
   */
  presence: boolean;
}

/** `database`: the SQLite store. */
export interface DatabaseConfig {
  /** Path of the SQLite file (relative paths are relative to the working directory). */
  path: string;
  /** Most memory SQLite's page cache takes, MiB (1–4096). Default 4. */
  cache_mib: number;
}

/** `secrets`, after loading: the token-encryption key, from the file or `SKYPE_BRIDGE_TOKEN_KEY`. */
export interface SecretsConfig {
  /**
   * 64 hex digits (a raw 256-bit key) or a passphrase of at least 16 characters; see
   * `tokenKeyKind()`. Never log it.
   */
  token_key: string;
}

/** `skype.endpoints`: the base addresses of PROFILE.md §1. */
export interface SkypeEndpointsConfig {
  /** Microsoft-account sign-in base URL, no trailing slash. */
  login: string;
  /** `api.skype.com`-style base URL (profile, user map), no trailing slash. */
  api: string;
  /** `login.skype.com`-style base URL (UIC), no trailing slash. */
  skype_login: string;
  /** Address-book (ABCH) SOAP base URL, no trailing slash. */
  abch: string;
  /** ActiveSync base URL, no trailing slash. */
  activesync: string;
  /** MSNP24 stream address as `host:port` (IPv6 hosts in brackets). */
  msnp: string;
  /** Object service for images and files (PROFILE §7.2), no trailing slash. Default `https://api.asm.skype.com`. */
  ams: string;
}

/** `skype`: where the Skype service lives. */
export interface SkypeConfig {
  endpoints: SkypeEndpointsConfig;
  /** Use TLS on the MSNP stream. Default true. */
  msnp_tls: boolean;
  /** Re-read address book and contacts every this many seconds; unset = only when notified. */
  contact_sync_interval_seconds?: number;
}

/** `encryption`: end-to-bridge encryption (Matrix side; the Rust crypto through its wasm build). */
export interface EncryptionConfig {
  /** Whether the bridge's users (bot and puppets) get devices and read/write encrypted rooms. Default false. */
  enabled: boolean;
  /** New portals are created encrypted. Default false; needs `enabled`. */
  default: boolean;
  /** Unencrypted Matrix messages in portals are not bridged (the sender is told). Default false; needs `enabled`. */
  require: boolean;
}

/** `logging`. */
export interface LoggingConfig {
  /** Default `info`. */
  level: LogLevel;
  /** Default `text`. */
  format: LogFormat;
  /** Levels by module prefix (e.g. `bridge.portal: debug`, `bot-sdk: warn`). Default none. */
  modules: Record<string, LogLevel>;
}

/** `provisioning`: the HTTP provisioning API (mautrix bridgev2's v3 routes) under `/_matrix/provision`. */
export interface ProvisioningConfig {
  /**
   * Secret that integration managers send as `Authorization: Bearer <secret>` (with `user_id`).
   * Unset: the API is off. Shorter than 16 characters: the API is off and the start says why.
   */
  shared_secret?: string;
  /** Accept Matrix OpenID tokens (exchanged at `/v1/exchange_openid`) for users acting for themselves. Default true. */
  allow_matrix_auth: boolean;
  /** Requests per minute and client address (0: no limit). Default 60. */
  rate_limit_per_minute: number;
}

/** `metrics`: the Prometheus endpoint (`GET /metrics`), off by default. */
export interface MetricsConfig {
  /** Serve `/metrics`. Default false. */
  enabled: boolean;
  /** Serve `/metrics`, `/health` and `/ready` on a listener of their own on this port. Unset: on the appservice listener. */
  port?: number;
  /** Address that listener binds to (only with `port`). Default `127.0.0.1`. */
  bind_address: string;
}

/** `limits`. */
export interface LimitsConfig {
  /** How many Skype sessions may be starting at once (at boot). Default 16. */
  session_start_concurrency: number;
  /** How many lost Skype connections may be reconnecting at once, bridge-wide. Default 32. */
  reconnect_concurrency: number;
}

/** `history`: what a user's portals start with when they link a Skype account (PROFILE §5 "History"). */
export interface HistoryConfig {
  /** How many of the most recent conversations get their portal, with history, on a first link (0: none). Default 20. */
  conversations: number;
  /** How many of each of those conversations' last messages are posted. Default 50. */
  messages: number;
}

/** `double_puppet`: acting as the user's real Matrix account (mautrix's `double_puppet`). */
export interface DoublePuppetConfig {
  /**
   * Homeserver server name → `as_token:<token>` of a second appservice registration whose user
   * namespace covers the real users (not exclusive). Secrets: never logged. Default none.
   */
  secrets: Record<string, string>;
}

/** The validated configuration with every default applied. */
export interface Config {
  homeserver: HomeserverConfig;
  appservice: AppserviceConfig;
  puppets: PuppetsConfig;
  database: DatabaseConfig;
  secrets: SecretsConfig;
  skype: SkypeConfig;
  /** Keys: `*`, a server name (`example.org`) or an MXID; at least one entry. See `permissionFor`. */
  permissions: Record<string, PermissionLevel>;
  /**
   * Whom a Matrix user without permission should ask for access (an MXID, an e-mail or any text),
   * named in the bot's refusal. Unset: the admins listed in `permissions`.
   */
  permissions_contact?: string;
  /** Unset: the provisioning API is off. */
  provisioning?: ProvisioningConfig;
  encryption: EncryptionConfig;
  logging: LoggingConfig;
  metrics: MetricsConfig;
  limits: LimitsConfig;
  history: HistoryConfig;
  double_puppet: DoublePuppetConfig;
}

const str = { type: "string" } as const;
const nonEmpty = { type: "string", minLength: 1 } as const;

/** The JSON schema of the configuration file (snake_case keys, unknown keys refused everywhere). */
export const configSchema = {
  type: "object",
  additionalProperties: false,
  required: ["homeserver", "appservice", "skype", "permissions"],
  properties: {
    homeserver: {
      type: "object",
      additionalProperties: false,
      required: ["url", "domain"],
      properties: { url: str, domain: str, status_endpoint: { type: "string", pattern: "^https?://" } },
    },
    appservice: {
      type: "object",
      additionalProperties: false,
      required: ["url"],
      properties: {
        bind_address: { ...nonEmpty, default: "127.0.0.1" },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 29330 },
        id: { type: "string", pattern: "^[A-Za-z0-9._~-]+$", default: "skype" },
        bot_localpart: { ...str, default: "skypebot" },
        bot_display_name: { ...nonEmpty, default: "Skype bridge bot" },
        url: str,
      },
    },
    puppets: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        localpart_template: { ...str, default: "skype_{id}" },
        display_name_template: { ...str, default: "{name} (Skype)" },
        presence: { type: "boolean", default: true },
      },
    },
    database: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        path: { ...nonEmpty, default: "skype-bridge.db" },
        cache_mib: { type: "integer", minimum: 1, maximum: 4096, default: 4 },
      },
    },
    secrets: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: { token_key: str },
    },
    skype: {
      type: "object",
      additionalProperties: false,
      required: ["endpoints"],
      properties: {
        endpoints: {
          type: "object",
          additionalProperties: false,
          required: ["login", "api", "skype_login", "abch", "activesync", "msnp"],
          properties: {
            login: str,
            api: str,
            skype_login: str,
            abch: str,
            activesync: str,
            msnp: str,
            ams: { ...str, default: "https://api.asm.skype.com" },
          },
        },
        msnp_tls: { type: "boolean", default: true },
        contact_sync_interval_seconds: { type: "integer", minimum: 1 },
      },
    },
    permissions: {
      type: "object",
      minProperties: 1,
      additionalProperties: { enum: ["user", "admin"] },
    },
    permissions_contact: nonEmpty,
    provisioning: {
      type: "object",
      additionalProperties: false,
      properties: {
        shared_secret: str,
        allow_matrix_auth: { type: "boolean", default: true },
        rate_limit_per_minute: { type: "integer", minimum: 0, maximum: 100000, default: 60 },
      },
    },
    encryption: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: "boolean", default: false },
        default: { type: "boolean", default: false },
        require: { type: "boolean", default: false },
      },
    },
    logging: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ["debug", "info", "warn", "error"], default: "info" },
        format: { enum: ["text", "json"], default: "text" },
        modules: {
          type: "object",
          default: {},
          additionalProperties: { enum: ["debug", "info", "warn", "error"] },
        },
      },
    },
    metrics: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: "boolean", default: false },
        port: { type: "integer", minimum: 1, maximum: 65535 },
        bind_address: { ...nonEmpty, default: "127.0.0.1" },
      },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        session_start_concurrency: { type: "integer", minimum: 1, maximum: 1000, default: 16 },
        reconnect_concurrency: { type: "integer", minimum: 1, maximum: 1000, default: 32 },
      },
    },
    history: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        conversations: { type: "integer", minimum: 0, maximum: 1000, default: 20 },
        messages: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
      },
    },
    double_puppet: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        secrets: {
          type: "object",
          default: {},
          additionalProperties: { type: "string", pattern: "^as_token:\\S+$" },
        },
      },
    },
  },
} as const;

// ---- Compile-time link between the schema and `Config` -------------------------------------

/** The TypeScript type of data valid against schema `S` once ajv has applied its defaults. */
export type FromSchema<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: "string" }
    ? string
    : S extends { readonly type: "integer" | "number" }
      ? number
      : S extends { readonly type: "boolean" }
        ? boolean
        : S extends { readonly type: "object"; readonly properties: infer P }
          ? ObjectFromSchema<P, S extends { readonly required: readonly (infer R)[] } ? R : never>
          : S extends { readonly type: "object"; readonly additionalProperties: infer A }
            ? Record<string, FromSchema<A>>
            : never;

/** Keys that are required or have a default are always present; the others are optional. */
type ObjectFromSchema<P, R> = {
  -readonly [K in keyof P as K extends R ? K : P[K] extends { default: unknown } ? K : never]: FromSchema<
    P[K]
  >;
} & {
  -readonly [
    K in keyof P as K extends R ? never : P[K] extends { default: unknown } ? never : K
  ]?: FromSchema<P[K]>;
};

/** What the file yields after schema validation, before the semantic step resolves the key. */
export type ValidatedFile = FromSchema<typeof configSchema>;

type FileShapeOfConfig = Omit<Config, "secrets"> & {
  secrets: { token_key?: string };
};
/** Flattens intersections recursively so that two equal shapes compare equal. */
type Normalize<T> = T extends object ? { [K in keyof T]: Normalize<T[K]> } : T;
/** True only when A and B are the same type (optional markers and extra keys included). */
type Equal<A, B> =
  (<T>() => T extends Normalize<A> ? 1 : 2) extends <T>() => T extends Normalize<B> ? 1 : 2 ? true : false;

/** Fails to compile when `configSchema` and `Config` drift apart. */
const schemaMatchesConfig: Equal<ValidatedFile, FileShapeOfConfig> = true;
void schemaMatchesConfig;
