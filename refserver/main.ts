// SPDX-License-Identifier: Apache-2.0
/**
 * Runs the reference server as a process:
 *   tsx refserver/main.ts [--fixtures file.yaml] [--http-port N] [--msnp-port N] [--control-port N]
 * Prints one JSON line with its addresses on stdout (`httpUrl`, `msnp`, `controlUrl`, and `endpoints`:
 * the bridge's `skype.endpoints` block), then serves until SIGINT/SIGTERM. The benchmark runs it this
 * way (bench/lib/stack.ts), so the server's work stays off the event loop that takes the timings.
 */
import { startReferenceServer } from "./index.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function port(name: string): number | undefined {
  const v = flag(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`refserver: ${name} needs a port number\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const server = await startReferenceServer({
    fixtures: flag("--fixtures"),
    http: { port: port("--http-port") ?? 0 },
    msnpPort: port("--msnp-port"),
    controlPort: port("--control-port"),
  });
  process.stdout.write(
    JSON.stringify({
      httpUrl: server.httpUrl,
      msnp: server.msnpAddress,
      controlUrl: server.controlUrl,
      endpoints: server.endpoints,
    }) + "\n",
  );
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`refserver: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
