// SPDX-License-Identifier: Apache-2.0
/**
 * The logger the protocol client is given. It never reads config; the bridge adapts its own logger.
 * Context objects are passed separately from the message and are redacted by the sink.
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

const SECRET_KEY = /pass(word|wd)?|token|cookie|authorization|secret|uic|ticket|ppft|registration/i;
const SECRET_IN_TEXT =
  /((?:access_token|refresh_token|passwd|password|PPFT|uic|t)=)[^&\s"'<]+|(Registration:\s*)\S+|(RPSToken\s+)\S+|(<ssl-compact-ticket>)[^<]*|(<uic>)[^<]*/gi;

/** Masks secrets in free text (query strings, MSNP headers, XML fragments). */
export function redactText(text: string): string {
  return text.replace(SECRET_IN_TEXT, (_m, a?: string, b?: string, c?: string, d?: string, e?: string) => {
    const prefix = a ?? b ?? c ?? d ?? e ?? "";
    return `${prefix}[redacted]`;
  });
}

/** Returns a copy of a log context with secret-looking keys masked and strings scrubbed. */
export function redactContext(context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (SECRET_KEY.test(key)) out[key] = "[redacted]";
    else if (typeof value === "string") out[key] = redactText(value);
    else if (value instanceof Error) out[key] = redactText(`${value.name}: ${value.message}`);
    else out[key] = value;
  }
  return out;
}
