// SPDX-License-Identifier: Apache-2.0
/** The management-room command model: a table of commands, each a small handler. */

/** A failure whose `humanMessage` is safe and useful to show in the room. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly humanMessage: string,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

export interface CommandContext {
  /** The Matrix user who sent the command. */
  sender: string;
  roomId: string;
  /** The event id of the command message (e.g. to redact a password). */
  eventId: string;
  isAdmin: boolean;
  /** Sends a notice from the bot into the management room. */
  reply(text: string, html?: string): Promise<void>;
}

export interface Command {
  name: string;
  /** e.g. `login [e-mail]` */
  usage: string;
  summary: string;
  adminOnly?: boolean;
  run(ctx: CommandContext, args: string[]): Promise<void>;
}
