// SPDX-License-Identifier: Apache-2.0
/**
 * Avatars (PROFILE §7.6 [A]): `GET {api}/users/{identity}/profile/avatar` with `X-Skypetoken`,
 * `If-None-Match` with the ETag the caller holds → the image and its `ETag`, `304` (unchanged) or
 * `404` (no avatar). A refused Skype token (`401`) is renewed once. The token goes to the `api`
 * base only; a body that is not an image is an error (the caller keeps the avatar it has).
 */
import { SkypeError, SkypeErrorCode } from "../errors.js";
import { headerValue, httpRequest, unexpectedStatus, type HttpOptions } from "../http.js";
import type { SkypeTokenSource } from "../skype-token.js";

/** Largest avatar accepted (bytes). */
export const MAX_AVATAR_BYTES = 4 * 1024 * 1024;

/** What asking for an avatar found. */
export type AvatarResult =
  | { kind: "image"; bytes: Buffer; contentType: string; etag?: string }
  | { kind: "unchanged" }
  | { kind: "none" };

export interface AvatarClientOptions extends HttpOptions {
  /** The `api` base (PROFILE §1), no trailing slash. */
  api: string;
  tokens: SkypeTokenSource;
}

/** PNG, JPEG, GIF and WebP signatures: a body claiming to be an image must start like one. */
function looksLikeImage(bytes: Buffer): boolean {
  if (bytes.length < 4) return false;
  const png = bytes[0] === 0x89 && bytes.toString("latin1", 1, 4) === "PNG";
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const gif = bytes.toString("latin1", 0, 4) === "GIF8";
  const webp =
    bytes.length >= 12 &&
    bytes.toString("latin1", 0, 4) === "RIFF" &&
    bytes.toString("latin1", 8, 12) === "WEBP";
  return png || jpeg || gif || webp;
}

/** Reads contacts' avatars (and the user's own). */
export class AvatarClient {
  constructor(private readonly opts: AvatarClientOptions) {}

  /**
   * The avatar of `identity` (`8:…` or `1:…`), or `unchanged` when `etag` is still current. Network
   * I/O. @throws SkypeError: `Parse` for a body that is not an image (or too large), `HttpStatus` /
   * `Network` for other answers, the token's errors.
   */
  async fetch(identity: string, etag?: string): Promise<AvatarResult> {
    const url = `${this.opts.api}/users/${encodeURIComponent(identity)}/profile/avatar`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.opts.tokens.skypeToken();
      const headers: Record<string, string> = { "X-Skypetoken": token, Accept: "image/*" };
      if (etag !== undefined) headers["If-None-Match"] = etag;
      const res = await httpRequest(this.opts, {
        method: "GET",
        url,
        what: "avatar",
        headers,
        maxResponseBytes: MAX_AVATAR_BYTES,
      });
      if (res.status === 401 && attempt === 0) {
        this.opts.tokens.invalidateSkypeToken();
        continue;
      }
      if (res.status === 304) return { kind: "unchanged" };
      if (res.status === 404) return { kind: "none" };
      if (res.status !== 200) throw unexpectedStatus("avatar", res.status);
      const contentType = (headerValue(res.headers, "content-type") ?? "")
        .split(";")[0]!
        .trim()
        .toLowerCase();
      if (!contentType.startsWith("image/") || !looksLikeImage(res.body)) {
        throw new SkypeError(SkypeErrorCode.Parse, "avatar: the answer is not an image", false);
      }
      const tag = headerValue(res.headers, "etag");
      return { kind: "image", bytes: res.body, contentType, ...(tag ? { etag: tag } : {}) };
    }
  }
}
