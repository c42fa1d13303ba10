#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * Entry point: parses the command line, loads the config and runs the chosen command.
 * The only place that calls process.exit.
 */
import { ConfigError } from "./config/errors.js";
import { loadConfig } from "./config/load.js";
import { parseArgs, UsageError, USAGE } from "./cli/args.js";
import { writeRegistrationFile } from "./cli/register.js";
import { runBridge } from "./cli/run.js";
import { runProbeCommand } from "./cli/probe.js";
import { Logger, errorText } from "./util/logger.js";

const log = new Logger("main");

function fail(message: string): never {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n");
  process.exit(1);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(`skype-bridge: ${e.message}\n\n${USAGE}`);
    throw e;
  }
  if (args.command === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  let config;
  try {
    config = loadConfig(args.config!);
  } catch (e) {
    if (e instanceof ConfigError) {
      fail(`The configuration file ${args.config} has ${e.problems.length} problem(s):\n${e.message}`);
    }
    throw e;
  }
  switch (args.command) {
    case "validate-config":
      process.stdout.write(`${args.config} is valid.\n`);
      return;
    case "register":
      writeRegistrationFile(config, args.file!, args.url!);
      process.stdout.write(
        `Wrote the appservice registration to ${args.file}. Add it to Synapse's app_service_config_files.\n`,
      );
      return;
    case "probe":
      process.exitCode = await runProbeCommand(config, args);
      return;
    case "run":
      await runBridge(config, args.file!, args.port);
      // Timers of libraries may linger after a clean shutdown; the process is done.
      process.exit(0);
  }
}

main().catch((e: unknown) => {
  log.error("fatal error", { error: errorText(e) });
  fail(`skype-bridge: ${errorText(e)}`);
});
