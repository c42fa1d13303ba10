// SPDX-License-Identifier: Apache-2.0
/**
 * MSC2659 appservice ping: the bridge asks the homeserver to call the bridge's `/_matrix/app/v1/ping`
 * and reports how it went, in words an admin can act on.
 */
import { randomUUID } from "node:crypto";

export type PingResult = { ok: true; durationMs: number } | { ok: false; errcode: string; reason: string };

interface DoRequest {
  doRequest(method: string, path: string, qs?: unknown, body?: unknown): Promise<unknown>;
}

const REASONS: Record<string, string> = {
  M_URL_NOT_SET: "the registration has no url, so the homeserver does not know where the bridge is.",
  M_CONNECTION_FAILED:
    "the homeserver could not connect to the bridge's address in the registration (check `url` in registration.yaml and that the bridge listens there).",
  M_CONNECTION_TIMEOUT: "the homeserver's request to the bridge timed out.",
  M_BAD_STATUS: "the bridge answered the homeserver with an error (check that hs_token matches).",
  M_FORBIDDEN:
    "the homeserver refused the bridge's as_token (is the registration loaded by the homeserver?).",
  M_UNRECOGNIZED: "this homeserver does not support the appservice ping (MSC2659).",
};

export async function pingHomeserver(client: DoRequest, appserviceId: string): Promise<PingResult> {
  try {
    const res = (await client.doRequest(
      "POST",
      `/_matrix/client/v1/appservice/${encodeURIComponent(appserviceId)}/ping`,
      null,
      { transaction_id: randomUUID() },
    )) as { duration_ms?: number };
    return { ok: true, durationMs: res.duration_ms ?? 0 };
  } catch (e) {
    const body = (e as { body?: { errcode?: string; error?: string } }).body;
    const errcode = body?.errcode ?? (e as { code?: string }).code ?? "M_UNKNOWN";
    const reason =
      REASONS[errcode] ??
      `the homeserver could not be reached or answered ${errcode}${body?.error ? ` (${body.error})` : ""}.`;
    return { ok: false, errcode, reason };
  }
}
