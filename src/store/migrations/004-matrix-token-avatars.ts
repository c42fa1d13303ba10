// SPDX-License-Identifier: Apache-2.0
// v4: double puppeting and avatars. Never edit once shipped; add 005-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * - users.matrix_token_enc: the access token a user gave with `login-matrix` (double puppeting),
 *   encrypted like the refresh token (crypto.ts "v1:…" blob, never clear text).
 * - persons.avatar_etag: the ETag of the Skype avatar that `persons.avatar_url` (its mxc:// copy) was
 *   uploaded from; an avatar is uploaded again only when Skype's ETag changes (PROFILE §7.6).
 */
export default {
  version: 4,
  description: "users.matrix_token_enc (double puppeting) and persons.avatar_etag (avatars)",
  sql: `
ALTER TABLE users ADD COLUMN matrix_token_enc TEXT;
ALTER TABLE persons ADD COLUMN avatar_etag TEXT;
`,
} satisfies Migration;
