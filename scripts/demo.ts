// SPDX-License-Identifier: Apache-2.0
/**
 * The demo: a real Synapse on 127.0.0.1:8008, the reference Skype server (fixture accounts from
 * refserver/fixtures/default.yaml) and the bridge, all in ./demo-data. Ctrl-C stops everything.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import yaml from "js-yaml";
import { startReferenceServer } from "../refserver/index.js";
import { Synapse } from "../test/e2e/harness/synapse.js";

const ROOT = resolve(__dirname, "..");
const DATA = join(ROOT, "demo-data");
const HS_PORT = Number(process.env.DEMO_SYNAPSE_PORT ?? 8008);
const BRIDGE_PORT = Number(process.env.DEMO_BRIDGE_PORT ?? 29330);

function out(line = ""): void {
  process.stdout.write(line + "\n");
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const skype = await startReferenceServer({ http: { port: 8090 }, msnpPort: 1863, controlPort: 8091 });
  const keyFile = join(DATA, "token-key");
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
  const tokenKey = readFileSync(keyFile, "utf8").trim();
  const configPath = join(DATA, "config.yaml");
  const registrationPath = join(DATA, "registration.yaml");
  writeFileSync(
    configPath,
    yaml.dump({
      homeserver: { url: `http://127.0.0.1:${HS_PORT}`, domain: "localhost" },
      appservice: { bind_address: "127.0.0.1", port: BRIDGE_PORT, url: `http://127.0.0.1:${BRIDGE_PORT}` },
      database: { path: join(DATA, "bridge.db") },
      skype: { endpoints: skype.endpoints, msnp_tls: false },
      permissions: { localhost: "admin" },
      logging: { level: "info", format: "text" },
    }),
  );
  const env = { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: tokenKey };
  const main = join(ROOT, "src", "main.ts");
  if (!existsSync(registrationPath)) {
    const gen = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        main,
        "-r",
        "-c",
        configPath,
        "-f",
        registrationPath,
        "-u",
        `http://127.0.0.1:${BRIDGE_PORT}`,
      ],
      { cwd: ROOT, env, stdio: "inherit" },
    );
    if (gen.status !== 0) throw new Error("could not generate the registration");
  }
  out("Starting Synapse (installing it from PyPI first if needed)…");
  const synapse = await Synapse.start({
    dir: join(DATA, "synapse"),
    registrationFiles: [registrationPath],
    port: HS_PORT,
  });
  const password = "demo-password";
  await synapse.registerUser("demo", { password, admin: true }).catch(() => undefined);
  const bridge = spawn(
    process.execPath,
    ["--import", "tsx", main, "-c", configPath, "-f", registrationPath],
    {
      cwd: ROOT,
      env,
      stdio: "inherit",
    },
  );
  const stop = (): void => {
    bridge.kill("SIGTERM");
    void Promise.allSettled([synapse.stop(), skype.close()]).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  bridge.once("exit", (code) => {
    out(`The bridge exited (${code ?? "signal"}).`);
    stop();
  });
  out("");
  out("=== The Skype bridge demo is running ===");
  out(`Matrix homeserver: http://127.0.0.1:${HS_PORT}  (server name "localhost")`);
  out(`  Matrix user: demo   password: ${password}`);
  out("Reference Skype server: fixture accounts in refserver/fixtures/default.yaml");
  out("  Skype account: alice@hotmail.co.uk   password: wonderland");
  out("");
  out("To chat from Element:");
  out(
    `  1. Open Element (https://app.element.io or your own) and choose "Edit" homeserver → http://127.0.0.1:${HS_PORT}`,
  );
  out("  2. Sign in as demo / " + password);
  out("  3. Start a chat with @skypebot:localhost, then send: help");
  out("  4. Send: login alice@hotmail.co.uk   and then the password wonderland when asked");
  out(
    `  5. Make a Skype contact write to you: curl -X POST ${skype.controlUrl}/msnp/send -d '{"from":"bob@outlook.com","to":"8:live:alice_1","text":"hi"}'`,
  );
  out("Ctrl-C stops Synapse, the bridge and the reference server.");
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
