// SPDX-License-Identifier: Apache-2.0
/**
 * The process's one logger: one per module, structured context passed separately from the message,
 * text or JSON lines on stderr, secrets redacted (see ./redact.ts). It fits the protocol client's
 * `SkypeLogger` as is, and {@link installLibraryLogging} sends matrix-appservice-bridge's and
 * matrix-bot-sdk's lines through the same sink, level and format.
 */
import type * as LibraryLogging from "./library-logging.js";
import { errorSummary, redactContext, redactText } from "./redact.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

interface Sink {
  level: LogLevel;
  /** Levels by module prefix (`bridge.portal`, `bot-sdk`): the longest matching prefix wins. */
  modules: ReadonlyMap<string, LogLevel>;
  format: "text" | "json";
  write: (line: string) => void;
}

const sink: Sink = {
  level: (process.env.LOG_LEVEL as LogLevel | undefined) ?? "info",
  modules: new Map(),
  format: "text",
  write: (line) => process.stderr.write(line + "\n"),
};

/**
 * Sets the global level and format (from config at start). They apply to the Matrix libraries'
 * lines too once {@link installLibraryLogging} has run.
 */
export function configureLogging(opts: {
  level?: LogLevel;
  format?: "text" | "json";
  modules?: Readonly<Record<string, LogLevel>>;
}): void {
  if (opts.level) sink.level = opts.level;
  if (opts.format) sink.format = opts.format;
  if (opts.modules) sink.modules = new Map(Object.entries(opts.modules));
  levels.clear();
}

/** Each module's effective level, worked out once per configuration. */
const levels = new Map<string, number>();

/**
 * The lowest level `module` writes: the level of the longest `logging.modules` prefix that matches
 * it at a name boundary (`bridge.portal` matches `bridge.portal.skype`, not `bridge.portals`), else
 * the global one.
 */
function minimumFor(module: string): number {
  let min = levels.get(module);
  if (min !== undefined) return min;
  let best = "";
  let level = sink.level;
  for (const [prefix, l] of sink.modules) {
    const matches = module === prefix || module.startsWith(prefix + ".") || module.startsWith(prefix + "/");
    if (matches && prefix.length > best.length) {
      best = prefix;
      level = l;
    }
  }
  min = ORDER[level];
  levels.set(module, min);
  return min;
}

/** Replaces where lines go (tests capture them). Returns a function restoring the previous writer. */
export function setLogWriter(write: (line: string) => void): () => void {
  const prev = sink.write.bind(sink);
  sink.write = write;
  return () => {
    sink.write = prev;
  };
}

export class Logger {
  constructor(
    readonly module: string,
    private readonly base: Record<string, unknown> = {},
  ) {}

  /** A logger with extra context on every line (e.g. `{ user }`). */
  child(context: Record<string, unknown>): Logger {
    return new Logger(this.module, { ...this.base, ...context });
  }

  /** True when a line at `level` would be written (to skip building an expensive one). */
  enabled(level: LogLevel): boolean {
    return ORDER[level] >= minimumFor(this.module);
  }

  debug(message: string, context?: Record<string, unknown>): void {
    this.log("debug", message, context);
  }
  info(message: string, context?: Record<string, unknown>): void {
    this.log("info", message, context);
  }
  warn(message: string, context?: Record<string, unknown>): void {
    this.log("warn", message, context);
  }
  error(message: string, context?: Record<string, unknown>): void {
    this.log("error", message, context);
  }

  private log(level: LogLevel, message: string, context?: Record<string, unknown>): void {
    if (ORDER[level] < minimumFor(this.module)) return;
    const ctx = redactContext({ ...this.base, ...context });
    const msg = redactText(message);
    const ts = new Date().toISOString();
    if (sink.format === "json") {
      sink.write(JSON.stringify({ ts, level, module: this.module, msg, ...ctx }));
      return;
    }
    const extra = Object.entries(ctx)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    sink.write(`${ts} ${level.toUpperCase().padEnd(5)} [${this.module}] ${msg}${extra ? " " + extra : ""}`);
  }
}

/** Formats an unknown thrown value for a log context without leaking secrets. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return errorSummary(e);
  return redactText(String(e));
}

/**
 * Sends every line of matrix-appservice-bridge's `Logger` and of matrix-bot-sdk's `LogService`
 * through this module's sink: same level, format and redaction as the bridge's own lines, nothing
 * on the libraries' own console transport. Call it once at start (it replaces any earlier
 * `Logger.configure(...)` of the library, so do not call that too); calling it again is harmless.
 *
 * The libraries' `info` lines (an access-log line per appservice request, request timings) are
 * logged at `debug`; their warnings and errors keep their level, except the expected Matrix
 * errors the library itself treats as noise (`M_NOT_FOUND` for account data or events,
 * `M_USER_IN_USE`), which are `debug` too.
 */
export function installLibraryLogging(): void {
  // Loaded on first use, so CLI commands and tests that never start the bridge do not load the
  // Matrix libraries (Express, winston, the bot SDK) just by logging.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require("./library-logging.js") as typeof LibraryLogging;
  lib.routeLibraryLogs();
}
