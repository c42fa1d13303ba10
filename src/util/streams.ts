// SPDX-License-Identifier: Apache-2.0
/** Small stream helpers shared by the protocol client and the bridge. */
import type { Readable } from "node:stream";

/**
 * Destroys a stream whose rest is not wanted, without an `error` event nobody listens to: undici's
 * response bodies emit `RequestAbortedError` when destroyed before their end, which, unheard, would
 * be an uncaught exception and stop the process.
 */
export function discardStream(stream: Readable): void {
  stream.on("error", () => undefined);
  stream.destroy();
}
