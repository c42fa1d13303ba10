// SPDX-License-Identifier: Apache-2.0
/**
 * What the end-to-end benchmarks run against, all on 127.0.0.1: the reference server (in this
 * process, driven through its control API), a real Synapse from the cached venv (the e2e harness's
 * Synapse class) with two appservices registered — the bridge and the bench's minimal appservice —
 * and the bridge as a child process with the probe (bench/lib/probe.ts) loaded over IPC.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import yaml from "js-yaml";
import { startReferenceServer, type RunningReferenceServer } from "../../refserver/index.js";
import type { GeneratedAccount } from "../../refserver/generate.js";
import { generateRegistration } from "../../test/e2e/harness/registration.js";
import { Synapse } from "../../test/e2e/harness/synapse.js";
import { freePort } from "../../test/e2e/harness/util.js";
import { MiniAppservice } from "./appservice.js";
import { MatrixUser } from "./matrix.js";
import type { ProbeSample } from "./probe.js";

const ROOT = resolve(__dirname, "..", "..");
const PROBE = resolve(__dirname, "probe.ts");

export interface BridgeStartOptions {
  /** Database file name inside the stack's folder. */
  db: string;
  /** Config keys merged over the bench's config (e.g. `{limits: {...}}`). */
  config?: Record<string, unknown>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Log file name inside the stack's folder. Default: `<db>.log`. */
  log?: string;
}

/** The bridge child process with its probe. */
export class BridgeProcess {
  /** performance.now() at spawn. */
  readonly spawnedAt = performance.now();
  private readonly tail: string[] = [];
  private readonly marks = new Map<RegExp, number>();
  private readonly pending = new Map<number, (s: ProbeSample) => void>();
  private nextId = 0;
  private partial = "";
  lineCount = 0;

  constructor(
    readonly child: ChildProcess,
    private readonly log: WriteStream,
    watch: RegExp[],
  ) {
    for (const re of watch) this.marks.set(re, NaN);
    const onData = (chunk: Buffer): void => {
      this.log.write(chunk);
      this.partial += chunk.toString("utf8");
      const lines = this.partial.split("\n");
      this.partial = lines.pop() ?? "";
      const now = performance.now();
      for (const line of lines) {
        this.lineCount++;
        this.tail.push(line);
        if (this.tail.length > 200) this.tail.shift();
        for (const [re, at] of this.marks) if (Number.isNaN(at) && re.test(line)) this.marks.set(re, now);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("message", (m: { id: number; sample: ProbeSample }) => {
      this.pending.get(m.id)?.(m.sample);
      this.pending.delete(m.id);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** When a watched line first appeared (performance.now()), NaN if not yet. */
  markOf(re: RegExp): number {
    return this.marks.get(re) ?? NaN;
  }

  lastLines(n = 30): string {
    return this.tail.slice(-n).join("\n");
  }

  /** Asks the probe for a sample (`reset` restarts the lag histogram; `gc` collects first). */
  probe(
    cmd: "sample" | "reset" | "gc" | "heapsnapshot",
    timeoutMs = 30_000,
    path?: string,
  ): Promise<ProbeSample> {
    const id = ++this.nextId;
    return new Promise<ProbeSample>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the bridge's probe did not answer ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (s) => {
        clearTimeout(timer);
        resolvePromise(s);
      });
      this.child.send({ id, cmd, path });
    });
  }

  /** Waits until `re` was printed; throws when the process exits or time runs out. */
  async waitForLine(re: RegExp, timeoutMs: number): Promise<number> {
    if (!this.marks.has(re)) this.marks.set(re, NaN);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.markOf(re);
      if (!Number.isNaN(at)) return at;
      if (this.exited) throw new Error(`the bridge exited:\n${this.lastLines()}`);
      if (Date.now() > deadline) throw new Error(`the bridge did not print ${re} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM (clean) or SIGKILL; SIGKILL after 30 s anyway. Resolves with the exit code. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number | null> {
    const child = this.child;
    if (this.exited) return child.exitCode;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await exited;
    clearTimeout(timer);
    await new Promise<void>((r) => this.log.end(() => r()));
    return code;
  }
}

export const STARTED = /homeserver and bridge reach each other/;
export const STARTING_SESSIONS = /starting sessions/;

export class BenchStack {
  private readonly bridges: BridgeProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly skype: RunningReferenceServer,
    readonly synapse: Synapse,
    readonly appservice: MiniAppservice,
    readonly tokenKey: string,
    readonly registrationPath: string,
    readonly bridgePort: number,
    private readonly baseConfig: Record<string, unknown>,
  ) {}

  static async create(): Promise<BenchStack> {
    const dir = mkdtempSync(join(tmpdir(), "skype-bench-"));
    const skype = await startReferenceServer();
    const appservice = new MiniAppservice();
    let synapse: Synapse | undefined;
    try {
      await appservice.listen();
      const asRegistration = join(dir, "bench-as.yaml");
      appservice.writeRegistration(asRegistration);
      const bridgePort = await freePort();
      const registrationPath = join(dir, "registration.yaml");
      const baseConfig: Record<string, unknown> = {
        homeserver: { url: "http://127.0.0.1:1", domain: "localhost" },
        appservice: { bind_address: "127.0.0.1", port: bridgePort, url: `http://127.0.0.1:${bridgePort}` },
        database: { path: join(dir, "bridge.db") },
        skype: { endpoints: skype.endpoints, msnp_tls: false },
        permissions: { "*": "user" },
        logging: { level: "info", format: "text" },
      };
      const configPath = join(dir, "register.yaml");
      writeFileSync(configPath, yaml.dump(baseConfig));
      const tokenKey = randomBytes(32).toString("hex");
      generateRegistration({ configPath, registrationPath, bridgePort, tokenKey });
      synapse = await Synapse.start({
        dir: join(dir, "synapse"),
        registrationFiles: [registrationPath, asRegistration],
      });
      baseConfig.homeserver = { url: synapse.url, domain: synapse.domain };
      return new BenchStack(
        dir,
        skype,
        synapse,
        appservice,
        tokenKey,
        registrationPath,
        bridgePort,
        baseConfig,
      );
    } catch (e) {
      await synapse?.stop();
      await appservice.close();
      await skype.close();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  dbPath(name: string): string {
    return join(this.dir, name);
  }

  /** Starts a bridge on `db` and waits until it has pinged Synapse. */
  async startBridge(opts: BridgeStartOptions): Promise<BridgeProcess> {
    const configPath = join(this.dir, `${opts.db}.config.yaml`);
    const config = { ...this.baseConfig, database: { path: this.dbPath(opts.db) }, ...opts.config };
    writeFileSync(configPath, yaml.dump(config));
    const log = createWriteStream(join(this.dir, opts.log ?? `${opts.db}.log`), { flags: "a" });
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        ...(opts.nodeArgs ?? []),
        "--import",
        "tsx",
        "--import",
        PROBE,
        join(ROOT, "src", "main.ts"),
        "-c",
        configPath,
        "-f",
        this.registrationPath,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: this.tokenKey },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      },
    );
    const bridge = new BridgeProcess(child, log, [STARTED, STARTING_SESSIONS]);
    this.bridges.push(bridge);
    try {
      await bridge.waitForLine(STARTED, 120_000);
    } catch (e) {
      await bridge.stop("SIGKILL");
      throw e;
    }
    return bridge;
  }

  /** Registers a Matrix user on Synapse and returns a client for it. */
  async human(localpart: string): Promise<MatrixUser> {
    const login = await this.synapse.registerUser(localpart);
    return new MatrixUser(this.synapse.url, login.userId, login.accessToken);
  }

  /** POSTs to the reference server's control API. */
  async control<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.skype.controlUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`control ${path}: ${res.status} ${json.error ?? ""}`);
    return json;
  }

  /** Generates accounts on the reference server (POST /world/generate). */
  async generate(prefix: string, count: number, contacts: number): Promise<GeneratedAccount[]> {
    const r = await this.control<{ accounts: GeneratedAccount[] }>("/world/generate", {
      prefix,
      count,
      contacts,
    });
    return r.accounts;
  }

  /** Identities with a ready MSNP endpoint on the reference server. */
  readyIdentities(): Set<string> {
    const out = new Set<string>();
    for (const e of this.skype.msnp.endpoints()) if (e.ready) for (const id of e.identities) out.add(id);
    return out;
  }

  async close(): Promise<void> {
    for (const b of this.bridges) await b.stop("SIGTERM").catch(() => undefined);
    await this.synapse.stop().catch(() => undefined);
    await this.appservice.close().catch(() => undefined);
    await this.skype.close().catch(() => undefined);
    if (!process.env.BENCH_KEEP_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}
