// SPDX-License-Identifier: Apache-2.0
/**
 * The logger the protocol client is given. It never reads config; the bridge passes its own logger.
 * Context objects are passed separately from the message and are redacted by the sink (the masking
 * itself lives in src/util/redact.ts, which protocol code may use for text it builds).
 */
export interface SkypeLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** A logger that drops everything (the default in tests). */
export const silentLogger: SkypeLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
