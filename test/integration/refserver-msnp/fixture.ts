// SPDX-License-Identifier: Apache-2.0
/** Starts a World and an MsnpServer on 127.0.0.1:0 for one test, closed by `t.after`. */
import { join } from "node:path";
import type { TestContext } from "node:test";
import { World } from "../../../refserver/world.js";
import { MsnpServer, type MsnpServerOptions } from "../../../refserver/msnp/server.js";
import type { ControlApi } from "../../../refserver/control.js";
import { RawClient, signIn, type Session, type SignInOptions } from "./raw-client.js";

export const FIXTURES = join(__dirname, "../../../refserver/fixtures/default.yaml");

export interface Started {
  world: World;
  server: MsnpServer;
  port: number;
  /** Opens a raw connection closed at the end of the test. */
  connect(): Promise<RawClient>;
  /** Registers a client to be closed at the end of the test. */
  track<T extends { close(): Promise<void> }>(c: T): T;
  /** Signs `who` in (closed at the end of the test). */
  signIn(who: string, o?: SignInOptions): Promise<Session>;
}

export async function start(
  t: TestContext,
  options: Partial<MsnpServerOptions> = {},
  control?: ControlApi,
): Promise<Started> {
  const world = World.fromFile(FIXTURES);
  const server = new MsnpServer(world, options, control);
  const { port } = await server.listen(0);
  const clients: Array<{ close(): Promise<void> }> = [];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });
  const track = <T extends { close(): Promise<void> }>(c: T): T => {
    clients.push(c);
    return c;
  };
  return {
    world,
    server,
    port,
    track,
    connect: async () => track(await RawClient.connect(port)),
    signIn: async (who, o) => {
      const s = await signIn(world, port, who, o);
      track(s.client);
      return s;
    },
  };
}
