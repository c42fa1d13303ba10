// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's appservice registration, generated through the real CLI (`main.ts -r`) as an admin
 * would: used by the e2e environment and the benchmark's stack (bench/lib/stack.ts).
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..", "..");

/**
 * Writes the registration of the bridge configured in `configPath` to `registrationPath`, with
 * the bridge reachable at `http://127.0.0.1:<bridgePort>`. Throws with the CLI's output on failure.
 */
export function generateRegistration(opts: {
  configPath: string;
  registrationPath: string;
  bridgePort: number;
  tokenKey: string;
}): void {
  const gen = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "src", "main.ts"),
      "-r",
      "-c",
      opts.configPath,
      "-f",
      opts.registrationPath,
      "-u",
      `http://127.0.0.1:${opts.bridgePort}`,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: opts.tokenKey } },
  );
  if (gen.status !== 0) throw new Error(`registration generation failed: ${gen.stderr}${gen.stdout}`);
}
