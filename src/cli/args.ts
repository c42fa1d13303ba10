// SPDX-License-Identifier: Apache-2.0
/**
 * Command-line parsing. The run/registration flags follow matrix-appservice-bridge's Cli:
 * `-c/--config`, `-f/--file`, `-p/--port`, `-r/--generate-registration`, `-u/--url`, `-h/--help`.
 */

export class UsageError extends Error {
  override name = "UsageError";
}

export interface ParsedArgs {
  command: "run" | "register" | "probe" | "validate-config" | "help";
  config?: string;
  file?: string;
  port?: number;
  url?: string;
  user?: string;
  redirectUrl?: string;
  send?: { to: string; text: string };
  listen?: boolean;
  wait?: number;
}

const VALUE_FLAGS: Record<string, keyof ParsedArgs> = {
  "-c": "config",
  "--config": "config",
  "-f": "file",
  "--file": "file",
  "-p": "port",
  "--port": "port",
  "-u": "url",
  "--url": "url",
  "--user": "user",
  "--redirect-url": "redirectUrl",
  "--wait": "wait",
};

export const USAGE = `Usage:
  skype-bridge -c config.yaml -f registration.yaml [-p port]     run the bridge
  skype-bridge -r -c config.yaml -f registration.yaml -u <url>   write the appservice registration
  skype-bridge validate-config -c config.yaml                    check a config file
  skype-bridge probe -c config.yaml --user <e-mail> [--redirect-url <url>]
               [--send <mri> <text> [--wait <seconds>]] [--listen]
                                                                 sign in to Skype without Matrix and print JSON
                                                                 (the password is read from standard input)`;

export function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { command: "run" };
  const rest = [...argv];
  if (rest[0] === "probe" || rest[0] === "validate-config")
    out.command = rest.shift() as ParsedArgs["command"];
  while (rest.length) {
    const arg = rest.shift()!;
    if (arg === "-h" || arg === "--help") return { command: "help" };
    if (arg === "-r" || arg === "--generate-registration") {
      out.command = "register";
      continue;
    }
    if (arg === "--listen") {
      out.listen = true;
      continue;
    }
    if (arg === "--send") {
      const to = rest.shift();
      const text = rest.shift();
      if (!to || text === undefined) throw new UsageError("--send needs a recipient MRI and a text");
      out.send = { to, text };
      continue;
    }
    const key = VALUE_FLAGS[arg];
    if (!key) throw new UsageError(`unknown argument "${arg}"`);
    const value = rest.shift();
    if (value === undefined || value.startsWith("-")) throw new UsageError(`${arg} needs a value`);
    if (key === "port" || key === "wait") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${arg} needs a whole number`);
      (out as unknown as Record<string, unknown>)[key] = n;
    } else {
      (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (out.command !== "help" && !out.config) throw new UsageError("-c <config.yaml> is required");
  if ((out.command === "run" || out.command === "register") && !out.file) {
    throw new UsageError("-f <registration.yaml> is required");
  }
  if (out.command === "register" && !out.url) throw new UsageError("-u <bridge url> is required with -r");
  if (out.command === "probe" && !out.user) throw new UsageError("probe needs --user <e-mail>");
  return out;
}
