// SPDX-License-Identifier: Apache-2.0
/**
 * `skype-bridge probe`: signs in to the configured Skype servers without Matrix and prints what
 * it sees as JSON, so an admin can check a server. Never prints a token or the password.
 */
import type { Config } from "../config/schema.js";
import type { ParsedArgs } from "./args.js";
import { runProbe } from "../skype/probe.js";
import { probeMessaging } from "../skype/probe-msnp.js";
import { loginWithPassword, loginWithRedirect } from "../skype/auth/login-process.js";
import { endpointsFromConfig } from "../sessions/setup.js";
import { isSkypeError } from "../skype/errors.js";
import { redactText } from "../util/redact.js";

/** Reads the password: the first line of standard input. */
export async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

/** Runs the probe; returns the process exit code. */
export async function runProbeCommand(config: Config, args: ParsedArgs): Promise<number> {
  try {
    const password = args.redirectUrl ? undefined : await readPassword();
    if (!args.redirectUrl && !password) {
      process.stderr.write(
        "probe: no password on standard input (or pass --redirect-url for the browser flow)\n",
      );
      return 1;
    }
    const endpoints = endpointsFromConfig(config);
    if (args.send || args.listen) {
      const login = args.redirectUrl
        ? await loginWithRedirect(endpoints, args.redirectUrl)
        : await loginWithPassword(endpoints, args.user!, password ?? "");
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await probeMessaging({
          endpoints,
          login,
          send: args.send,
          listen: args.listen,
          waitSeconds: args.wait,
          signal: stop.signal,
          out: (line) => process.stdout.write(JSON.stringify(line) + "\n"),
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      return 0;
    }
    const result = await runProbe({ endpoints, user: args.user!, password, redirectUrl: args.redirectUrl });
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
  } catch (e) {
    const what = isSkypeError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`probe failed: ${redactText(what)}\n`);
    return 1;
  }
}
