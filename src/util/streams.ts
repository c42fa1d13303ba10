// SPDX-License-Identifier: Apache-2.0
/** Small stream helpers shared by the protocol client and the bridge. */
import { pipeline, Transform, type Readable } from "node:stream";

/**
 * Destroys a stream whose rest is not wanted, without an `error` event nobody listens to: undici's
 * response bodies emit `RequestAbortedError` when destroyed before their end, which, unheard, would
 * be an uncaught exception and stop the process.
 */
export function discardStream(stream: Readable): void {
  stream.on("error", () => undefined);
  stream.destroy();
}

/**
 * `body` through a counter that fails with `tooLarge()` once more than `limit` bytes went through:
 * a cap on what a server sends, whatever length it declared. Errors of either side end both.
 */
export function limitBytes(body: Readable, limit: number, tooLarge: () => Error): Readable {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      if (total > limit) done(tooLarge());
      else done(null, chunk);
    },
  });
  pipeline(body, counter, () => undefined);
  return counter;
}
