// SPDX-License-Identifier: Apache-2.0
/**
 * Typed errors of the SQLite store. Callers branch on `code`, never on the message.
 * Messages never contain secrets (keys, passphrases, tokens) nor stored values.
 */

export const StoreErrorCode = {
  /** The database was written by a newer bridge (its schema version is above the code's). */
  NewerSchema: "STORE_NEWER_SCHEMA",
  /** The encryption key does not match the one the database was set up with. */
  BadKey: "STORE_BAD_KEY",
  /** The key setting is malformed (empty, too short a passphrase). */
  InvalidKey: "STORE_INVALID_KEY",
  /** A secret was read or written but the store was opened without a key. */
  NoKey: "STORE_NO_KEY",
  /** The file is not a SQLite database, is damaged, or a stored value failed its integrity check. */
  Corrupt: "STORE_CORRUPT",
  /** The file is a SQLite database that belongs to something else (tables but no bridge schema). */
  ForeignDatabase: "STORE_FOREIGN_DATABASE",
  /** A schema migration failed; the database was left at the previous version. */
  Migration: "STORE_MIGRATION",
  /** The database stayed locked past the busy timeout; try again. */
  Busy: "STORE_BUSY",
  /** A write broke a constraint (unknown user or room, duplicate where duplicates are refused). */
  Constraint: "STORE_CONSTRAINT",
  /** The row the call needs does not exist. */
  NotFound: "STORE_NOT_FOUND",
  /** The caller passed a value the store refuses (malformed identity, non-JSON payload, …). */
  InvalidArgument: "STORE_INVALID_ARGUMENT",
  /** Disk full, read-only file, missing directory, permission denied or another I/O failure. */
  Io: "STORE_IO",
  /** The store was closed. */
  Closed: "STORE_CLOSED",
  /** Any other SQLite failure. */
  Failed: "STORE_FAILED",
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** Every error the store throws on purpose. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** True when the same call may succeed later without anyone doing anything. */
    readonly retryable = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "StoreError";
  }
}

/** The database's schema is newer than this code: refuse to touch it. Carries both versions. */
export class NewerSchemaError extends StoreError {
  constructor(
    readonly dbVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      StoreErrorCode.NewerSchema,
      `The database is at schema version ${dbVersion} but this bridge knows versions up to ${codeVersion}: ` +
        "it was used by a newer bridge. Run that version again or restore a backup.",
    );
    this.name = "NewerSchemaError";
  }
}
