// SPDX-License-Identifier: Apache-2.0
/** The store's public surface: what sessions/, bridge/ and main.ts import. */
export type * from "./types.js";
export { openStore, SqliteStore, type OpenStoreOptions } from "./sqlite-store.js";
export { NewerSchemaError, StoreError, StoreErrorCode } from "./errors.js";
export type { MigrateResult } from "./migrate.js";
