// SPDX-License-Identifier: Apache-2.0
/**
 * One end-to-end environment: the reference server (in this process), a real Synapse, the bridge
 * as a child process (so it can be killed with SIGKILL and restarted), and human Matrix users
 * driven by a real client library. `close()` always stops everything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  createWriteStream,
  type WriteStream,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import yaml from "js-yaml";
import { RustSdkCryptoStorageProvider } from "@vector-im/matrix-bot-sdk";
import {
  startReferenceServer,
  type ReferenceServerOptions,
  type RunningReferenceServer,
} from "../../../refserver/index.js";
import { HumanClient } from "./human.js";
import { generateRegistration } from "./registration.js";
import { Synapse } from "./synapse.js";
import { freePort, waitFor } from "./util.js";

const ROOT = resolve(__dirname, "..", "..", "..");
/** Every test human's password (a second device logs in with it). */
const HUMAN_PASSWORD = "human-password-for-tests";

export interface E2EOptions {
  refserver?: ReferenceServerOptions;
  /** Extra config keys merged over the generated bridge config. */
  config?: Record<string, unknown>;
  /**
   * Double puppeting with a second appservice registration (users namespace `@.*:<domain>`, not
   * exclusive, no url), registered with Synapse and named in `double_puppet.secrets`.
   */
  doublePuppet?: boolean;
  /** Extra Synapse settings (e.g. `{ max_upload_size: "2M" }`). */
  synapse?: Record<string, unknown>;
  /** Synapse with the experimental features appservice encryption needs (synapse.ts). */
  synapseEncryption?: boolean;
}

export class E2EEnv {
  readonly humans: HumanClient[] = [];
  /** Every line the bridge process printed (stdout and stderr), across restarts. */
  readonly bridgeLines: string[] = [];
  /** The bridge's start-up ping failures that the harness's own ping then overrode (see startBridge). */
  readonly startPingFailures: string[] = [];
  private bridge?: ChildProcess;
  private logStream?: WriteStream;

  private constructor(
    readonly dir: string,
    readonly synapse: Synapse,
    readonly skype: RunningReferenceServer,
    readonly configPath: string,
    readonly registrationPath: string,
    readonly bridgePort: number,
    private readonly tokenKey: string,
  ) {}

  static async create(opts: E2EOptions = {}): Promise<E2EEnv> {
    const dir = mkdtempSync(join(tmpdir(), "skype-e2e-"));
    const skype = await startReferenceServer(opts.refserver);
    let synapse: Synapse | undefined;
    try {
      const bridgePort = await freePort();
      const configPath = join(dir, "config.yaml");
      const registrationPath = join(dir, "registration.yaml");
      const config = {
        homeserver: { url: "http://127.0.0.1:1", domain: "localhost" },
        appservice: { bind_address: "127.0.0.1", port: bridgePort, url: `http://127.0.0.1:${bridgePort}` },
        database: { path: join(dir, "bridge.db") },
        skype: { endpoints: skype.endpoints, msnp_tls: false },
        permissions: { "*": "user", "@admin:localhost": "admin" },
        logging: { level: "debug", format: "text" },
        // History on a first link stays off unless a test turns it on (test/e2e/history.test.ts):
        // other tests count the messages of rooms they expect to start empty.
        history: { conversations: 0 },
        ...opts.config,
      };
      const tokenKey = randomBytes(32).toString("hex");
      writeFileSync(configPath, yaml.dump(config));
      generateRegistration({ configPath, registrationPath, bridgePort, tokenKey });
      const registrationFiles = [registrationPath];
      const doublePuppetToken = randomBytes(24).toString("hex");
      if (opts.doublePuppet) {
        const dpPath = join(dir, "doublepuppet.yaml");
        writeFileSync(
          dpPath,
          yaml.dump({
            id: "doublepuppet",
            url: null,
            as_token: doublePuppetToken,
            hs_token: randomBytes(24).toString("hex"),
            sender_localpart: "doublepuppet-bot",
            rate_limited: false,
            namespaces: { users: [{ regex: "@.*:localhost", exclusive: false }], rooms: [], aliases: [] },
          }),
        );
        registrationFiles.push(dpPath);
      }
      synapse = await Synapse.start({
        dir: join(dir, "synapse"),
        registrationFiles,
        extra: opts.synapse,
        encryption: opts.synapseEncryption,
      });
      const doublePuppet = opts.doublePuppet
        ? { double_puppet: { secrets: { [synapse.domain]: `as_token:${doublePuppetToken}` } } }
        : {};
      writeFileSync(
        configPath,
        // Other homeserver keys of the overlay (e.g. status_endpoint) stay.
        yaml.dump({
          ...config,
          ...doublePuppet,
          homeserver: { ...config.homeserver, url: synapse.url, domain: synapse.domain },
        }),
      );
      const env = new E2EEnv(dir, synapse, skype, configPath, registrationPath, bridgePort, tokenKey);
      await env.startBridge();
      return env;
    } catch (e) {
      await synapse?.stop();
      await skype.close();
      throw e;
    }
  }

  /** Starts the bridge process and waits until its appservice answers and it has pinged Synapse. */
  async startBridge(): Promise<void> {
    const linesBefore = this.bridgeLines.length;
    this.logStream ??= createWriteStream(join(this.dir, "bridge.log"), { flags: "a" });
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src", "main.ts"), "-c", this.configPath, "-f", this.registrationPath],
      {
        cwd: ROOT,
        env: { ...process.env, SKYPE_BRIDGE_TOKEN_KEY: this.tokenKey },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.bridge = child;
    let partial = "";
    const onData = (chunk: Buffer): void => {
      this.logStream?.write(chunk);
      partial += chunk.toString("utf8");
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      this.bridgeLines.push(...lines);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    const outcome = await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`bridge exited:\n${this.bridgeLines.slice(-30).join("\n")}`);
        const lines = this.bridgeLines.slice(linesBefore);
        if (lines.some((l) => l.includes("homeserver and bridge reach each other"))) return "ok";
        return lines.find((l) => l.includes("the homeserver cannot reach the bridge"));
      },
      { timeoutMs: 60_000, what: "the bridge to start and reach Synapse" },
    );
    if (outcome !== "ok") {
      // Synapse now and then answers the bridge's one start-up ping with 502 ("AlreadyCalled: Tried
      // to cancel an already-called event") although its log shows the bridge's 200; the bridge
      // does not ping again. Reachability is then confirmed by pinging with the bridge's token.
      this.startPingFailures.push(outcome);
      await waitFor(() => this.pingAppservice(), {
        timeoutMs: 30_000,
        intervalMs: 500,
        what: `Synapse to reach the bridge (the bridge's own ping failed: ${outcome})`,
      });
    }
  }

  /** The appservice ping (MSC2659) with the bridge's registration: true when Synapse reached it. */
  async pingAppservice(): Promise<boolean> {
    const reg = yaml.load(readFileSync(this.registrationPath, "utf8")) as { id: string; as_token: string };
    const res = await fetch(
      `${this.synapse.url}/_matrix/client/v1/appservice/${encodeURIComponent(reg.id)}/ping`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${reg.as_token}`, "content-type": "application/json" },
        body: "{}",
      },
    );
    await res.body?.cancel();
    return res.ok;
  }

  /** Stops the bridge: SIGTERM (graceful) or SIGKILL (crash). */
  async stopBridge(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number | null> {
    const child = this.bridge;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /**
   * Registers a human user and starts their syncing client; with `encryption`, the client has a
   * device with bot-sdk's crypto (through the same wasm stand-in as the bridge) and reads and
   * writes encrypted rooms.
   */
  async human(localpart: string, opts: { encryption?: boolean } = {}): Promise<HumanClient> {
    const login = await this.synapse.registerUser(localpart, { password: HUMAN_PASSWORD });
    return this.startHuman(login.userId, login.accessToken, opts.encryption === true);
  }

  /** Logs an existing human in again (a new device) and starts that client. */
  async humanDevice(userId: string, opts: { encryption?: boolean } = {}): Promise<HumanClient> {
    const res = await fetch(`${this.synapse.url}/_matrix/client/v3/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: userId },
        password: HUMAN_PASSWORD,
      }),
    });
    if (!res.ok) throw new Error(`login of ${userId} failed: ${res.status} ${await res.text()}`);
    const { access_token: token } = (await res.json()) as { access_token: string };
    return this.startHuman(userId, token, opts.encryption === true);
  }

  private async startHuman(userId: string, token: string, encryption: boolean): Promise<HumanClient> {
    const cryptoStore = encryption
      ? new RustSdkCryptoStorageProvider(join(this.dir, "human-crypto", `${this.humans.length}`), 0)
      : undefined;
    const client = new HumanClient(this.synapse.url, token, userId, cryptoStore);
    await client.start();
    this.humans.push(client);
    return client;
  }

  get botUserId(): string {
    return `@skypebot:${this.synapse.domain}`;
  }

  /** Opens a DM with the bot and waits for the greeting; returns the room id. */
  async openManagementRoom(human: HumanClient): Promise<string> {
    const roomId = await human.createRoom({
      invite: [this.botUserId],
      is_direct: true,
      preset: "trusted_private_chat",
    });
    await human.waitForEvent(
      (e) => e.room_id === roomId && e.sender === this.botUserId && e.type === "m.room.message",
      "the bot's greeting",
    );
    return roomId;
  }

  /** Sends a command and returns the bot's next reply in that room. */
  async command(human: HumanClient, roomId: string, text: string): Promise<string> {
    const before = human.timeline.length;
    await human.sendText(roomId, text);
    const reply = await human.waitForEvent(
      (e) =>
        human.timeline.indexOf(e) >= before &&
        e.room_id === roomId &&
        e.sender === this.botUserId &&
        e.type === "m.room.message",
      `the bot's reply to "${text}"`,
    );
    return String(reply.content.body);
  }

  /** True while `identity` has a ready MSNP endpoint on the reference server. */
  skypeOnline(identity: string): boolean {
    return this.skype.msnp.endpoints().some((e) => e.ready && e.identities.includes(identity));
  }

  /**
   * Links a Skype account from the management room with the password flow (as a person would:
   * `login <e-mail>`, then the password) and waits until its endpoint is online.
   */
  async linkSkype(
    human: HumanClient,
    managementRoom: string,
    account = { email: "alice@hotmail.co.uk", password: "wonderland", identity: "8:live:alice_1" },
  ): Promise<void> {
    const prompt = await this.command(human, managementRoom, `login ${account.email}`);
    if (!/password/i.test(prompt)) throw new Error(`unexpected answer to login: ${prompt}`);
    const reply = await this.command(human, managementRoom, account.password);
    if (!reply.startsWith("Linked to Skype")) throw new Error(`login failed: ${reply}`);
    await waitFor(() => this.skypeOnline(account.identity), {
      timeoutMs: 30_000,
      what: `${account.identity}'s bridge endpoint to be online`,
    });
  }

  /**
   * Has a contact write `text` to the linked user, accepts the DM invite from the contact's puppet
   * and waits for the message. Returns the DM room and the puppet's MXID.
   */
  async dmFromContact(
    human: HumanClient,
    msg: { from: string; to: string; text: string; senderPattern: RegExp },
  ): Promise<{ room: string; puppet: string }> {
    this.skype.msnp.sendMessage({ from: msg.from, to: msg.to, text: msg.text });
    const room = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && msg.senderPattern.test(e.sender),
      `the DM invite from ${msg.from}`,
    );
    const puppet = human.invites.find((i) => i.roomId === room)!.event.sender;
    await human.joinRoom(room);
    await human.waitForEvent(
      (e) => e.room_id === room && e.sender === puppet && e.content.body === msg.text,
      `the first message from ${msg.from}`,
    );
    return { room, puppet };
  }

  async close(): Promise<void> {
    for (const h of this.humans) h.stop();
    await this.stopBridge("SIGTERM").catch(() => undefined);
    await this.synapse.stop().catch(() => undefined);
    await this.skype.close().catch(() => undefined);
    this.logStream?.end();
    if (!process.env.KEEP_E2E_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}
