// SPDX-License-Identifier: Apache-2.0
/**
 * A TCP proxy between an MSNP client and the reference server that turns the server into a liar
 * on demand: the real server does the protocol (login, catch-up, pings, messages), and a test
 * injects whatever bytes it likes into the server → client stream at a frame boundary. While an
 * injection runs, the real server's frames are held back, as they would be behind a frame that a
 * lying server is still sending; they follow once it ends.
 */
import * as net from "node:net";
import { once } from "node:events";
import { FrameParser } from "../../../src/skype/msnp/framing.js";

/** What an injection writes with. Every method stops early (returns false) once the client is gone. */
export interface Writer {
  /** Writes `bytes` at once (waits for the socket to drain). */
  write(bytes: Buffer | string): Promise<boolean>;
  /** Writes `bytes` a few at a time with a pause between: a slow-drip sender. */
  drip(bytes: Buffer | string, perTick: number, everyMs: number): Promise<boolean>;
  /** Writes `total` bytes of `fill` in 64 KiB chunks, honouring backpressure; returns bytes written. */
  flood(total: number, fill?: number): Promise<number>;
  readonly closed: boolean;
}

type Program = (w: Writer) => Promise<void>;

/** One client connection and its upstream connection to the real server. */
export class Link {
  /** Bytes written to the client (the real server's and injected ones). */
  bytesToClient = 0;
  private readonly parser = new FrameParser({ maxFrameBytes: 64 * 1024 * 1024, maxLineBytes: 1 << 20 });
  private held: Buffer[] = [];
  private injecting = false;
  private waiting: { program: Program; done: (e?: unknown) => void }[] = [];

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {
    upstream.on("data", (chunk: Buffer) => this.fromServer(chunk));
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  }

  get closed(): boolean {
    return this.client.destroyed || this.client.writableEnded;
  }

  private fromServer(chunk: Buffer): void {
    if (this.injecting) {
      this.held.push(chunk);
      return;
    }
    this.parser.push(chunk);
    this.send(chunk);
    this.maybeStart();
  }

  private send(chunk: Buffer | string): boolean {
    if (this.closed) return false;
    this.bytesToClient += Buffer.byteLength(chunk);
    return this.client.write(chunk);
  }

  /** Runs `program` as soon as the real server's stream is between two frames. */
  inject(program: Program): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        program,
        done: (e) =>
          e === undefined
            ? resolve()
            : reject(e instanceof Error ? e : new Error("injection failed", { cause: e })),
      });
      this.maybeStart();
    });
  }

  private maybeStart(): void {
    if (this.injecting || this.parser.buffered > 0) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.injecting = true;
    next.program(this.writer()).then(
      () => this.finish(next.done),
      (e: unknown) => this.finish(next.done, e),
    );
  }

  private finish(done: (e?: unknown) => void, error?: unknown): void {
    this.injecting = false;
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.fromServer(chunk);
    done(error);
    this.maybeStart();
  }

  private writer(): Writer {
    const drained = async (): Promise<boolean> => {
      if (this.closed) return false;
      if (!this.client.writableNeedDrain) return true;
      try {
        await Promise.race([once(this.client, "drain"), once(this.client, "close")]);
      } catch {
        // `once` rejects on an "error" event: the client reset the connection, which is the point.
      }
      return !this.closed;
    };
    const isClosed = (): boolean => this.closed;
    return {
      get closed() {
        return isClosed();
      },
      write: async (bytes) => {
        if (!this.send(bytes)) return drained();
        return !this.closed;
      },
      drip: async (bytes, perTick, everyMs) => {
        const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, "utf8");
        for (let i = 0; i < buf.length; i += perTick) {
          if (this.closed) return false;
          this.send(buf.subarray(i, i + perTick));
          await new Promise((r) => setTimeout(r, everyMs));
        }
        return !this.closed;
      },
      flood: async (total, fill = 0x41) => {
        const chunk = Buffer.alloc(64 * 1024, fill);
        let written = 0;
        while (written < total && !this.closed) {
          const part = total - written >= chunk.length ? chunk : chunk.subarray(0, total - written);
          this.send(part);
          written += part.length;
          if (!(await drained())) break;
        }
        return written;
      },
    };
  }
}

export class LyingProxy {
  readonly links: Link[] = [];
  private readonly server: net.Server;

  constructor(private readonly upstreamPort: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect({ host: "127.0.0.1", port: this.upstreamPort });
      this.links.push(new Link(client, upstream));
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The newest connection that is still open. */
  get current(): Link {
    const open = this.links.filter((l) => !l.closed);
    const link = open[open.length - 1];
    if (!link) throw new Error("no open connection through the proxy");
    return link;
  }

  async close(): Promise<void> {
    for (const l of this.links) {
      l.client.destroy();
      l.upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
