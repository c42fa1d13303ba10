// SPDX-License-Identifier: Apache-2.0
/**
 * A real Synapse for the end-to-end tests: installed from PyPI into a venv in a cache folder
 * outside the clone (reused when present; SYNAPSE_VENV overrides where), configured from its own
 * generated config plus a test overlay, started on 127.0.0.1 and always stopped.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, writeFileSync, openSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./util.js";

/** Synapse release line the suite is tested with. */
const SYNAPSE_SPEC = process.env.SYNAPSE_SPEC ?? "matrix-synapse>=1.140,<2";

export function venvDir(): string {
  return process.env.SYNAPSE_VENV ?? join(homedir(), ".cache", "skype-matrix-bridge", "synapse-venv");
}

function venvPython(): string {
  return join(venvDir(), "bin", "python");
}

/** Installs Synapse into the venv unless it already imports there. Returns the venv's python. */
export function ensureSynapse(): string {
  const py = venvPython();
  if (existsSync(py) && spawnSync(py, ["-c", "import synapse"], { stdio: "ignore" }).status === 0) return py;
  mkdirSync(join(venvDir(), ".."), { recursive: true });
  process.stderr.write(`[e2e] installing Synapse (${SYNAPSE_SPEC}) into ${venvDir()} from PyPI…\n`);
  const python = process.env.PYTHON ?? "python3";
  let r = spawnSync(python, ["-m", "venv", venvDir()], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`could not create a Python venv at ${venvDir()} with ${python}`);
  r = spawnSync(py, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", SYNAPSE_SPEC], {
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("pip install matrix-synapse failed");
  return py;
}

/** Synapse's `experimental_features` for appservice encryption (the README names them too). */
export const SYNAPSE_ENCRYPTION_FEATURES = {
  msc3202_transaction_extensions: true,
  msc2409_to_device_messages_enabled: true,
  msc3983_appservice_otk_claims: true,
  msc3984_appservice_key_query: true,
} as const;

export interface MatrixUserLogin {
  userId: string;
  accessToken: string;
}

export class Synapse {
  private constructor(
    readonly url: string,
    readonly domain: string,
    readonly dir: string,
    private proc: ChildProcess,
    private readonly sharedSecret: string,
  ) {}

  /**
   * Generates a config in `dir`, overlays the test settings (loopback listener, SQLite, no rate limits,
   * shared-secret registration, the given appservice registration files) and starts Synapse.
   */
  static async start(opts: {
    dir: string;
    registrationFiles: string[];
    port?: number;
    /** Extra top-level settings (e.g. `max_upload_size`), written into the overlay as YAML flow values. */
    extra?: Record<string, unknown>;
    /**
     * The experimental features appservice encryption needs (end-to-bridge encryption): to-device
     * events, one-time-key counts and device lists in transactions, and key claims and queries
     * answered for the appservice's users. Synapse 1.163 has no `msc3202_device_masquerading`
     * switch any more: an appservice may always act as its users' devices.
     */
    encryption?: boolean;
  }): Promise<Synapse> {
    const py = ensureSynapse();
    const { dir } = opts;
    mkdirSync(dir, { recursive: true });
    const domain = "localhost";
    const configPath = join(dir, "homeserver.yaml");
    const gen = existsSync(configPath)
      ? { status: 0, stderr: "" }
      : spawnSync(
          py,
          [
            "-m",
            "synapse.app.homeserver",
            "--generate-config",
            "--server-name",
            domain,
            "--config-path",
            join(dir, "homeserver.yaml"),
            "--report-stats=no",
            "--data-directory",
            dir,
            "--config-directory",
            dir,
          ],
          { encoding: "utf8", cwd: dir },
        );
    if (gen.status !== 0) throw new Error(`synapse --generate-config failed: ${gen.stderr}`);
    const port = opts.port ?? (await freePort());
    const secret = randomBytes(16).toString("hex");
    const unlimited = "{per_second: 10000, burst_count: 10000}";
    const extra = { ...opts.extra };
    if (opts.encryption)
      extra.experimental_features = {
        ...(extra.experimental_features as Record<string, unknown> | undefined),
        ...SYNAPSE_ENCRYPTION_FEATURES,
      };
    writeFileSync(
      join(dir, "test-overlay.yaml"),
      [
        "listeners:",
        `  - {port: ${port}, bind_addresses: ['127.0.0.1'], type: http, tls: false, x_forwarded: false,`,
        "     resources: [{names: [client, federation], compress: false}]}",
        `database: {name: sqlite3, args: {database: ${JSON.stringify(join(dir, "homeserver.db"))}}}`,
        "trusted_key_servers: []",
        "suppress_key_server_warning: true",
        "federation_domain_whitelist: []",
        "enable_registration: false",
        `registration_shared_secret: "${secret}"`,
        "bcrypt_rounds: 4",
        "url_preview_enabled: false",
        "presence: {enabled: true}",
        `app_service_config_files: ${JSON.stringify(opts.registrationFiles)}`,
        `rc_message: ${unlimited}`,
        `rc_registration: ${unlimited}`,
        `rc_login: {address: ${unlimited}, account: ${unlimited}, failed_attempts: ${unlimited}}`,
        `rc_joins: {local: ${unlimited}, remote: ${unlimited}}`,
        `rc_joins_per_room: ${unlimited}`,
        `rc_invites: {per_room: ${unlimited}, per_user: ${unlimited}, per_issuer: ${unlimited}}`,
        `rc_room_creation: ${unlimited}`,
        `rc_presence: {per_user: ${unlimited}}`,
        `rc_admin_redaction: ${unlimited}`,
        ...Object.entries(extra).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
        "",
      ].join("\n"),
    );
    const url = `http://127.0.0.1:${port}`;
    const hs = new Synapse(url, domain, dir, Synapse.launch(py, dir), secret);
    await hs.untilHealthy();
    return hs;
  }

  /** Spawns the homeserver process on the config files in `dir` (the overlay fixes the port). */
  private static launch(py: string, dir: string): ChildProcess {
    const logFd = openSync(join(dir, "synapse.stdout.log"), "a");
    const proc = spawn(
      py,
      [
        "-m",
        "synapse.app.homeserver",
        "-c",
        join(dir, "homeserver.yaml"),
        "-c",
        join(dir, "test-overlay.yaml"),
      ],
      { cwd: dir, stdio: ["ignore", logFd, logFd] },
    );
    closeSync(logFd); // the child has its own copy
    return proc;
  }

  /** Waits until the current process answers /health; stops it and throws if it does not. */
  private async untilHealthy(): Promise<void> {
    const proc = this.proc;
    let exited = proc.exitCode !== null || proc.signalCode !== null;
    proc.once("exit", () => (exited = true));
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`Synapse exited at start:\n${this.tailLog()}`);
          try {
            return (await fetch(`${this.url}/health`)).ok;
          } catch {
            return false;
          }
        },
        { timeoutMs: 90_000, what: "Synapse to answer /health" },
      );
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /**
   * Restarts Synapse in place: stops the process (SIGTERM, or SIGKILL for a crash), then starts it
   * again on the same port, config and data directory, and waits until it answers /health.
   * `url`, the registered users and their access tokens stay valid.
   */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    this.proc = Synapse.launch(ensureSynapse(), this.dir);
    await this.untilHealthy();
  }

  tailLog(lines = 40): string {
    const file = join(this.dir, "homeserver.log");
    const other = join(this.dir, "synapse.stdout.log");
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, "utf8") : "");
    return (read(file) + read(other)).split("\n").slice(-lines).join("\n");
  }

  /** Registers a user through the shared-secret admin API. */
  async registerUser(
    localpart: string,
    opts: { admin?: boolean; displayName?: string; password?: string } = {},
  ): Promise<MatrixUserLogin> {
    const endpoint = `${this.url}/_synapse/admin/v1/register`;
    const { nonce } = (await (await fetch(endpoint)).json()) as { nonce: string };
    const password = opts.password ?? randomBytes(12).toString("hex");
    const admin = opts.admin ? "admin" : "notadmin";
    const mac = createHmac("sha1", this.sharedSecret)
      .update(nonce)
      .update("\x00")
      .update(localpart)
      .update("\x00")
      .update(password)
      .update("\x00")
      .update(admin)
      .digest("hex");
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        nonce,
        username: localpart,
        password,
        admin: Boolean(opts.admin),
        displayname: opts.displayName,
        mac,
      }),
    });
    const body = (await res.json()) as { user_id?: string; access_token?: string; error?: string };
    if (!res.ok || !body.user_id || !body.access_token) {
      throw new Error(`registering ${localpart} failed: ${res.status} ${body.error ?? ""}`);
    }
    return { userId: body.user_id, accessToken: body.access_token };
  }

  /** Stops Synapse (SIGTERM, then SIGKILL after 10 s; or SIGKILL at once). Safe to call twice. */
  /** The homeserver process's id (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
    p.kill(signal);
    const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
