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

/** The arguments do not fit the command: the dispatcher answers with its usage line and example. */
export class UsageError extends CommandError {
  constructor(why = "") {
    super("usage", why);
    this.name = "UsageError";
  }
}

export interface CommandContext {
  /** The Matrix user who sent the command. */
  sender: string;
  roomId: string;
  /** The event id of the command message (e.g. to redact a password). */
  eventId: string;
  isAdmin: boolean;
  /**
   * Sends a notice from the bot into the room. Without `html`, text between backticks is sent as
   * `<code>` in an HTML version, so command names never show literal backticks.
   */
  reply(text: string, html?: string): Promise<void>;
  /** Whether the bot may redact others' messages in the room (a typed password must go). */
  canRedact?(): Promise<boolean>;
}

/** The sections of `help`, in the order they are shown. */
export const COMMAND_GROUPS = [
  "General",
  "Account",
  "Contacts",
  "Contact requests",
  "Blocking",
  "Admin",
] as const;
export type CommandGroup = (typeof COMMAND_GROUPS)[number];

export interface Command {
  /** One word, or `admin <word>` for admin commands. */
  name: string;
  /** Other names that run the same command (e.g. `start-chat` for `pm`). */
  aliases?: readonly string[];
  /** e.g. `login [e-mail]` */
  usage: string;
  summary: string;
  /** One example, shown in help and after a wrong use (e.g. `pm Bob`). Default: the usage. */
  example?: string;
  /** Default "General". */
  group?: CommandGroup;
  /** How many words of arguments it takes (default: any); outside, the usage line is the answer. */
  args?: { min?: number; max?: number };
  adminOnly?: boolean;
  run(ctx: CommandContext, args: string[]): Promise<void>;
}
