// SPDX-License-Identifier: Apache-2.0
/** `skype-bridge -c config.yaml -f registration.yaml`: runs the bridge until SIGTERM/SIGINT. */
import type { Config } from "../config/schema.js";
import { readRegistration } from "../bridge/matrix/registration.js";
import { BridgeApp } from "../bridge/app.js";
import { openStore } from "../store/sqlite-store.js";
import { Logger, configureLogging, errorText, installLibraryLogging } from "../util/logger.js";
import { packageVersion } from "../util/version.js";

const log = new Logger("main");

/** Runs until a signal stops the bridge; resolves once it has shut down. */
export async function runBridge(config: Config, registrationPath: string, port?: number): Promise<void> {
  configureLogging(config.logging);
  // matrix-appservice-bridge and matrix-bot-sdk log through our sink (one level, one format, redacted).
  installLibraryLogging();
  const registration = readRegistration(registrationPath);
  const store = openStore({
    path: config.database.path,
    key: config.secrets.token_key,
    cacheMiB: config.database.cache_mib,
  });
  const app = new BridgeApp({ config, registration, store, version: packageVersion() });
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`received ${signal}, shutting down`);
    app
      .stop()
      .catch((e: unknown) => log.error("error during shutdown", { error: errorText(e) }))
      .finally(() => {
        store.close();
        log.info("stopped");
        resolveStopped();
      });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  try {
    await app.start(port ?? config.appservice.port);
  } catch (e) {
    await app.stop().catch(() => undefined);
    store.close();
    throw e;
  }
  await stopped;
}
