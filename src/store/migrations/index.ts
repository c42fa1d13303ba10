// SPDX-License-Identifier: Apache-2.0
/** Every schema migration, in order. Append new ones; never reorder or edit shipped ones. */
import type { Migration } from "../migrate.js";
import m001 from "./001-initial.js";
import m002 from "./002-inbox.js";
import m003 from "./003-drop-as-txns.js";
import m004 from "./004-matrix-token-avatars.js";
import m005 from "./005-avatar-checked.js";
import m006 from "./006-management-room-index.js";
import m007 from "./007-user-sync-state.js";

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007];
