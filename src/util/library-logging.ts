// SPDX-License-Identifier: Apache-2.0
/**
 * Routes the Matrix libraries' logging into ours (see `installLibraryLogging` in ./logger.ts).
 *
 * - matrix-appservice-bridge logs through a winston logger it creates in `Logger.root
 *   .configureLogging(options, debugStream)`; every library `Logger` writes to that one instance.
 *   We give it no console and an object-mode stream as its debug stream, which receives every
 *   entry (debug and up) as an object and hands it to our sink.
 * - matrix-bot-sdk logs through its static `LogService`; we give it an `ILogger` that does the same
 *   with the structured arguments (the library's own adapter would flatten them with
 *   `util.inspect` first, hiding secret keys from the redaction).
 */
import { Writable } from "node:stream";
import { LogLevel as BotSdkLevel, LogService, type ILogger } from "@vector-im/matrix-bot-sdk";
import { Logger as LibLogger } from "matrix-appservice-bridge";
import { Logger, errorText, type LogLevel } from "./logger.js";

const APPSERVICE_PREFIX = "appservice-bridge/";
const BOT_SDK_PREFIX = "bot-sdk/";

const loggers = new Map<string, Logger>();

function loggerFor(module: string): Logger {
  let log = loggers.get(module);
  if (!log) {
    log = new Logger(module);
    loggers.set(module, log);
  }
  return log;
}

/**
 * One library log call (`message`, then any mix of strings, errors and objects) as one of our
 * lines: strings and numbers form the message, the first error becomes `error`, objects `args`.
 * Never throws (the libraries log from inside their request code).
 */
export function emitLibraryLine(
  level: LogLevel,
  module: string,
  parts: readonly unknown[],
  extra: Record<string, unknown> = {},
): void {
  try {
    const words: string[] = [];
    const args: unknown[] = [];
    let error: string | undefined;
    for (const part of parts) {
      if (part === null || part === undefined || typeof part !== "object") {
        words.push(typeof part === "function" ? "[function]" : String(part));
      } else if (part instanceof Error && error === undefined) {
        error = errorText(part);
      } else {
        args.push(part);
      }
    }
    const context: Record<string, unknown> = { ...extra };
    let message = words.join(" ");
    if (error !== undefined) {
      if (message === "") message = error;
      else context.error = error;
    }
    if (args.length > 0) context.args = args;
    loggerFor(module)[level](message, context);
  } catch {
    // A log line must never break the caller.
  }
}

/** winston's levels (upper-cased by the library; its `trace` is `verbose`) → ours; `info` is demoted. */
function appserviceLevel(level: unknown): LogLevel {
  const name = typeof level === "string" ? level.toLowerCase() : "";
  if (name === "error") return "error";
  if (name === "warn") return "warn";
  return "debug";
}

/** What the library's winston logger writes to an object-mode stream (its formatting added). */
interface WinstonEntry {
  level?: unknown;
  module?: unknown;
  requestId?: unknown;
  data?: unknown;
}

/**
 * The stream the library's winston logger writes to. Being in object mode, it receives each entry
 * as an object (module, request id and the original arguments), not the formatted text.
 */
function librarySink(): Writable {
  return new Writable({
    objectMode: true,
    write(info: WinstonEntry, _encoding: BufferEncoding, next: () => void) {
      const module = APPSERVICE_PREFIX + (typeof info.module === "string" ? info.module : "?");
      const parts: unknown[] = Array.isArray(info.data) ? info.data : [info.data];
      const extra =
        typeof info.requestId === "string" && info.requestId !== "" ? { requestId: info.requestId } : {};
      emitLibraryLine(appserviceLevel(info.level), module, parts, extra);
      next();
    },
  });
}

/**
 * Matrix errors the library logs as noise (it sends them to debug): missing account data or
 * events and `M_USER_IN_USE` are expected answers, not failures.
 */
function isNoise(parts: readonly unknown[]): boolean {
  return parts.some((part) => {
    if (part === null || typeof part !== "object") return false;
    const p = part as { error?: unknown; errcode?: unknown; body?: { error?: unknown; errcode?: unknown } };
    const error = p.error ?? p.body?.error;
    const errcode = p.errcode ?? p.body?.errcode;
    if (errcode === "M_USER_IN_USE") return true;
    return (
      errcode === "M_NOT_FOUND" && (error === "Room account data not found" || error === "Event not found.")
    );
  });
}

/** Every bot-sdk line goes to our sink; its `info` is demoted like the library's (request logs). */
const botSdkLogger: ILogger = {
  trace: (module: string, ...parts: unknown[]) => emitLibraryLine("debug", BOT_SDK_PREFIX + module, parts),
  debug: (module: string, ...parts: unknown[]) => emitLibraryLine("debug", BOT_SDK_PREFIX + module, parts),
  info: (module: string, ...parts: unknown[]) => emitLibraryLine("debug", BOT_SDK_PREFIX + module, parts),
  warn: (module: string, ...parts: unknown[]) =>
    emitLibraryLine(isNoise(parts) ? "debug" : "warn", BOT_SDK_PREFIX + module, parts),
  error: (module: string, ...parts: unknown[]) =>
    emitLibraryLine(isNoise(parts) ? "debug" : "error", BOT_SDK_PREFIX + module, parts),
};

/** Installs the routing (see `installLibraryLogging`). Calling it again replaces the first one. */
export function routeLibraryLogs(): void {
  // The library (re)creates the winston logger all its Loggers write to, with our stream as its one
  // transport: no `console` option, so nothing goes to the library's own console output.
  LibLogger.root.configureLogging({}, librarySink());
  // configureLogging pointed the bot-sdk at the library's flattening adapter; use ours instead.
  // Our sink filters levels, so the LogService only drops TRACE (request and response bodies).
  LogService.setLogger(botSdkLogger);
  LogService.setLevel(BotSdkLevel.DEBUG);
}
