// SPDX-License-Identifier: Apache-2.0
/**
 * The event side of a session: every listener is called on its own, so one that throws or whose
 * promise rejects is logged and the others still run; nothing reaches the event loop.
 */
import { EventEmitter } from "node:events";
import { errorText, type Logger } from "../util/logger.js";
import type { SessionEvents } from "./types.js";

/** MSNP client events a session passes on unchanged. */
export const FORWARDED_EVENTS = [
  "message",
  "edit",
  "delete",
  "typing",
  "presence",
  "threadUpdate",
  "threadActivity",
  "unhandledMessage",
  "horizon",
  "caughtUp",
] as const;

export class SessionEmitter extends EventEmitter<SessionEvents> {
  constructor(protected readonly log: Logger) {
    super({ captureRejections: true });
  }

  /** Emits `event` to each listener in turn; throws and rejections are logged. */
  protected fire<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    for (const listener of this.rawListeners(event) as ((...a: unknown[]) => unknown)[]) {
      try {
        const result = listener.apply(this, args);
        if (result instanceof Promise) result.catch((e: unknown) => this.listenerFailed(event, e));
      } catch (e) {
        this.log.error("a session listener threw", { event, error: errorText(e) });
      }
    }
  }

  private listenerFailed(event: unknown, error: unknown): void {
    this.log.error("a session listener failed", { event: String(event), error: errorText(error) });
  }

  /** A listener's promise rejected after a plain `emit` (captureRejections): log it. */
  override [EventEmitter.captureRejectionSymbol]<K>(
    error: Error,
    event: K | keyof SessionEvents,
    ..._args: unknown[]
  ): void {
    this.listenerFailed(event, error);
  }
}
