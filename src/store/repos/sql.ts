// SPDX-License-Identifier: Apache-2.0
/** Helpers shared by the repositories: patch statements, JSON columns, id checks. */
import { StoreError, StoreErrorCode } from "../errors.js";

/** Milliseconds since the epoch; injectable for tests. */
export type Clock = () => number;

/** A value better-sqlite3 can bind. */
export type SqlValue = string | number | bigint | Buffer | null;

/**
 * Builds one reusable `UPDATE … RETURNING *` for patches: each column is written only when its
 * `has_<field>` parameter is 1, so a single prepared statement serves every combination of fields.
 * `fields` maps patch field names to column names; `where` uses named parameters; `@now` stamps
 * `updated_ts`.
 */
export function patchSql(
  table: string,
  where: string,
  fields: Readonly<Record<string, string>>,
  returning = true,
): string {
  const sets = Object.entries(fields).map(
    ([field, column]) => `${column} = CASE WHEN @has_${field} = 1 THEN @${field} ELSE ${column} END`,
  );
  return `UPDATE ${table} SET ${sets.join(", ")}, updated_ts = @now WHERE ${where}${returning ? " RETURNING *" : ""}`;
}

/** The parameters for {@link patchSql}: `has_<field>` flags and values (undefined → keep). */
export function patchParams(
  patch: Readonly<Record<string, SqlValue | undefined>>,
  fields: Readonly<Record<string, string>>,
): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const field of Object.keys(fields)) {
    const value = patch[field];
    out[`has_${field}`] = value === undefined ? 0 : 1;
    out[field] = value ?? null;
  }
  return out;
}

/** 1/0 for a boolean column; undefined stays undefined (a patch that keeps the value). */
export function flag(value: boolean | undefined): number | undefined {
  return value === undefined ? undefined : value ? 1 : 0;
}

/** Serialises a JSON column; `STORE_INVALID_ARGUMENT` for values JSON cannot hold. */
export function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `${what} must be JSON-serialisable`);
  }
  return text;
}

/** Parses a JSON column written by {@link toJson}; `STORE_CORRUPT` when it is not JSON. */
export function fromJson(text: string | null, what: string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new StoreError(StoreErrorCode.Corrupt, `the stored ${what} is not valid JSON`, false, {
      cause: err,
    });
  }
}

const IDENTITY = /^\d{1,3}:[^\s;]+$/;

/** Checks a Skype identity looks like `<netId>:<name>` (no `;epid=…` suffix, no spaces). */
export function checkIdentity(identity: string): string {
  if (typeof identity !== "string" || !IDENTITY.test(identity)) {
    throw new StoreError(
      StoreErrorCode.InvalidArgument,
      "a Skype identity must look like <netId>:<name> (e.g. 8:live:bob_1), without ;epid or spaces",
    );
  }
  return identity;
}

/** Checks a required id/text argument is a non-empty string. */
export function checkText(value: string, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `${what} must be a non-empty string`);
  }
  return value;
}

/** Checks a timestamp / count argument. */
export function checkInt(value: number, what: string, min = 0): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `${what} must be an integer ≥ ${min}`);
  }
  return value;
}

/** Throws `STORE_NOT_FOUND` when an update matched no row. */
export function found<R>(row: R | undefined, what: string): R {
  if (row === undefined) throw new StoreError(StoreErrorCode.NotFound, `${what} does not exist`);
  return row;
}
