// A tiny scripted MSNP server for client unit tests: records every frame and lets the test answer.
import * as net from "node:net";
import {
  encodeFrame,
  FrameParser,
  type Frame,
  type OutgoingFrame,
} from "../../../../src/skype/msnp/framing.js";

export type Handler = (
  f: Frame,
  reply: (o: Partial<OutgoingFrame> & { command?: string }) => void,
  sock: net.Socket,
) => void;

export class ScriptServer {
  readonly frames: Frame[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private waiters: (() => void)[] = [];
  handler: Handler = () => {};

  constructor(handler?: Handler) {
    if (handler) this.handler = handler;
    this.server = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on("close", () => this.sockets.delete(sock));
      sock.on("error", () => {});
      const parser = new FrameParser();
      sock.on("data", (chunk) => {
        for (const f of parser.push(chunk)) {
          this.frames.push(f);
          this.handler(
            f,
            (o) =>
              sock.write(
                encodeFrame({
                  command: o.command ?? f.command,
                  trid: o.trid ?? f.trid,
                  type: o.type ?? f.type.split("\\")[0]!,
                  headers: o.headers,
                  body: o.body,
                  bare: o.bare,
                }),
              ),
            sock,
          );
          for (const w of this.waiters.splice(0)) w();
        }
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves when a frame matching `pred` has been received. */
  async waitFor(pred: (f: Frame) => boolean, what = "frame"): Promise<Frame> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  broadcast(o: OutgoingFrame): void {
    for (const s of this.sockets) s.write(encodeFrame(o));
  }

  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
