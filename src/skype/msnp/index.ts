// SPDX-License-Identifier: Apache-2.0
/**
 * The MSNP24 messaging client (PROFILE.md §3, §5). `MsnpClient` is the entry point; the codecs
 * are exported for tests and tools.
 */
export { MsnpClient } from "./client.js";
export type { ThreadOps } from "./thread-ops.js";
export type * from "./types.js";
export {
  FrameParser,
  encodeFrame,
  splitPayload,
  type Frame,
  type OutgoingFrame,
  type FrameParserOptions,
} from "./framing.js";
export { MsnpHeaders } from "./headers.js";
export { parseMultipart, buildMultipart, type MultipartBody, type MultipartSpec } from "./body.js";
export { cs64Response, SKYPE_PRODUCT_ID, SKYPE_PRODUCT_KEY } from "./cs64.js";
export { newClientMessageId, codePointLength } from "./messages.js";
export { SelfIdentity, bareMri, isThreadId, sameMri, compareIds } from "./identity.js";
export { backoffDelay, systemClock } from "./backoff.js";
