// SPDX-License-Identifier: Apache-2.0
/**
 * What the end-to-end benchmarks run against, all on 127.0.0.1: the reference server (a child
 * process, driven through its control API), a real Synapse from the cached venv (the e2e harness's
 * Synapse class) with two appservices registered — the bridge and the bench's minimal appservice —
 * and the bridge as a child process with the probe (bench/lib/probe.ts) loaded over IPC.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  createWriteStream,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import yaml from "js-yaml";
import type { GeneratedAccount } from "../../refserver/generate.js";
import type { RunningReferenceServer } from "../../refserver/index.js";
import { generateRegistration } from "../../test/e2e/harness/registration.js";
import { Synapse } from "../../test/e2e/harness/synapse.js";
import { freePort } from "../../test/e2e/harness/util.js";
import { MiniAppservice } from "./appservice.js";
import { MatrixUser } from "./matrix.js";
import type { ProbeSample } from "./probe.js";
import { bridgeEntry } from "./build.js";
import { cpuSeconds } from "./proc.js";

const ROOT = resolve(__dirname, "..", "..");
const REFSERVER = join(ROOT, "refserver", "main.ts");

/** Reference servers started and not yet stopped: killed when this process exits, whatever the path. */
const liveServers = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveServers) child.kill("SIGKILL");
});

/**
 * CPU seconds (user + system) of this process and of the reference servers it runs: what the
 * bench's side of a measurement cost, now that the server is a process of its own.
 */
export function benchCpuSeconds(): number {
  const u = process.cpuUsage();
  let s = (u.user + u.system) / 1e6;
  for (const child of liveServers) s += cpuSeconds(child.pid) || 0;
  return s;
}

/** What refserver/main.ts prints on its first line. */
interface ServerAddresses {
  httpUrl: string;
  msnp: string;
  controlUrl: string;
  endpoints: RunningReferenceServer["endpoints"];
}

/**
 * The reference server as a child process (`node --import tsx refserver/main.ts`): Skype's servers
 * are elsewhere, so their work (routing each message, P3's sign-ins, contact syncs, endpoint
 * listings) must not run on the event loop that reads /sync and stops the latency clocks. Its
 * output goes to `refserver.log` in the stack's folder.
 */
export class ReferenceServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly log: WriteStream,
    readonly httpUrl: string,
    readonly controlUrl: string,
    /** The `skype.endpoints` block for the bridge's config. */
    readonly endpoints: RunningReferenceServer["endpoints"],
  ) {}

  /** Spawns the server and waits for its addresses (its first stdout line). */
  static async start(logPath: string, timeoutMs = 60_000): Promise<ReferenceServerProcess> {
    const log = createWriteStream(logPath, { flags: "a" });
    const child = spawn(process.execPath, ["--import", "tsx", REFSERVER], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    liveServers.add(child);
    child.once("exit", () => liveServers.delete(child));
    child.stderr.on("data", (c: Buffer) => log.write(c));
    try {
      const addresses = await new Promise<ServerAddresses>((resolvePromise, reject) => {
        let first = "";
        let done = false;
        const timer = setTimeout(
          () => fail(new Error(`the reference server did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const fail = (e: Error): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          reject(e);
        };
        child.once("error", fail);
        child.once("exit", (code, signal) =>
          fail(
            new Error(`the reference server exited (${signal ?? code}) before it listened; see ${logPath}`),
          ),
        );
        child.stdout.on("data", (c: Buffer) => {
          log.write(c);
          if (done) return;
          first += c.toString("utf8");
          const nl = first.indexOf("\n");
          if (nl < 0) return;
          done = true;
          clearTimeout(timer);
          try {
            resolvePromise(JSON.parse(first.slice(0, nl)) as ServerAddresses);
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      });
      return new ReferenceServerProcess(
        child,
        log,
        addresses.httpUrl,
        addresses.controlUrl,
        addresses.endpoints,
      );
    } catch (e) {
      child.kill("SIGKILL");
      log.end();
      throw e;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM (the server closes its listeners), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}

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

/**
 * The bridge child process with its probe. The bridge writes its log straight into a file (its
 * stdout and stderr are that file), as under systemd or Docker, where a collector reads it: through a
 * pipe to this process instead, a busy bench (two cores, a storm of reconnects) lets the pipe fill,
 * and the bridge's synchronous log writes then wait for the bench — a cost of the bench, not of the
 * bridge. The file is read back every 20 ms for the lines the bench waits for.
 */
export class BridgeProcess {
  /** performance.now() at spawn. */
  readonly spawnedAt = performance.now();
  private readonly tail: string[] = [];
  private readonly marks = new Map<RegExp, number>();
  private readonly pending = new Map<number, (s: ProbeSample) => void>();
  private nextId = 0;
  private partial = "";
  private readOffset = 0;
  private readonly reader: NodeJS.Timeout;
  lineCount = 0;

  constructor(
    readonly child: ChildProcess,
    private readonly logFd: number,
    watch: RegExp[],
  ) {
    for (const re of watch) this.marks.set(re, NaN);
    this.reader = setInterval(() => this.readLog(), 20);
    child.on("message", (m: { id: number; sample: ProbeSample }) => {
      this.pending.get(m.id)?.(m.sample);
      this.pending.delete(m.id);
    });
  }

  /** Reads what the bridge appended to its log since the last call. */
  private readLog(): void {
    const chunk = Buffer.alloc(1 << 20);
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.logFd, chunk, 0, chunk.length, this.readOffset);
      } catch {
        return; // closed at stop()
      }
      if (n <= 0) return;
      this.readOffset += n;
      this.partial += chunk.toString("utf8", 0, n);
      const lines = this.partial.split("\n");
      this.partial = lines.pop() ?? "";
      const now = performance.now();
      for (const line of lines) {
        this.lineCount++;
        this.tail.push(line);
        if (this.tail.length > 200) this.tail.shift();
        for (const [re, at] of this.marks) if (Number.isNaN(at) && re.test(line)) this.marks.set(re, now);
      }
    }
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
    cmd:
      | "sample"
      | "reset"
      | "gc"
      | "heapsnapshot"
      | "allocations-start"
      | "allocations-stop"
      | "cpu-start"
      | "cpu-stop",
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
    this.readLog();
    clearInterval(this.reader);
    closeSync(this.logFd);
    return code;
  }
}

export const STARTED = /homeserver and bridge reach each other/;
export const STARTING_SESSIONS = /starting sessions/;

export class BenchStack {
  private readonly bridges: BridgeProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly skype: ReferenceServerProcess,
    readonly synapse: Synapse,
    readonly appservice: MiniAppservice,
    readonly tokenKey: string,
    readonly registrationPath: string,
    readonly bridgePort: number,
    private readonly baseConfig: Record<string, unknown>,
  ) {}

  static async create(): Promise<BenchStack> {
    const dir = mkdtempSync(join(tmpdir(), "skype-bench-"));
    let skype: ReferenceServerProcess | undefined;
    const appservice = new MiniAppservice();
    let synapse: Synapse | undefined;
    try {
      skype = await ReferenceServerProcess.start(join(dir, "refserver.log"));
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
      await skype?.stop();
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
    const logPath = join(this.dir, opts.log ?? `${opts.db}.log`);
    // Read and appended to (O_APPEND): the bridge's writes land at the end whatever the offset.
    const logFd = openSync(logPath, "a+");
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        ...(opts.nodeArgs ?? []),
        ...bridgeEntry().args,
        "-c",
        configPath,
        "-f",
        this.registrationPath,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: this.tokenKey },
        stdio: ["ignore", logFd, logFd, "ipc"],
      },
    );
    const bridge = new BridgeProcess(child, logFd, [STARTED, STARTING_SESSIONS]);
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

  /** GETs from the reference server's control API (`path` with its query). */
  async query<T = Record<string, unknown>>(path: string): Promise<T> {
    const res = await fetch(`${this.skype.controlUrl}${path}`);
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`control GET ${path}: ${res.status} ${json.error ?? ""}`);
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

  /**
   * Identities with a ready MSNP endpoint on the reference server. Only the identities travel
   * (`ready=1&ids=1`): the full listing holds every connection's contact list, ~18 MB at 10,000.
   */
  async readyIdentities(): Promise<Set<string>> {
    const r = await this.query<{ identities: string[] }>("/msnp/endpoints?ready=1&ids=1");
    return new Set(r.identities);
  }

  async close(): Promise<void> {
    for (const b of this.bridges) await b.stop("SIGTERM").catch(() => undefined);
    await this.synapse.stop().catch(() => undefined);
    await this.appservice.close().catch(() => undefined);
    await this.skype.stop().catch(() => undefined);
    if (!process.env.BENCH_KEEP_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}
