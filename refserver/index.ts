// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server as one unit: the HTTP side (sign-in, api, UIC, address book, ActiveSync),
 * the MSNP24 stream and the loopback control API over one shared world. Used in-process by tests
 * and as a process by the demo (refserver/main.ts).
 */
import { resolve } from "node:path";
import { ControlApi } from "./control.js";
import { registerGenerateRoutes } from "./generate.js";
import { startHttpServer } from "./http/server.js";
import type { HttpServerOptions } from "./http/options.js";
import { registerMediaRoutes } from "./media/control-routes.js";
import { MsnpServer } from "./msnp/server.js";
import type { MsnpServerOptions } from "./msnp/options.js";
import { World, type Fixtures } from "./world.js";

export interface ReferenceServerOptions {
  /** Fixture accounts, or a path to a fixtures YAML file (default: refserver/fixtures/default.yaml). */
  fixtures?: Fixtures | string;
  http?: Partial<HttpServerOptions>;
  msnp?: Partial<MsnpServerOptions>;
  /** Port of the MSNP listener (0 = any). */
  msnpPort?: number;
  /** Port of the control API (0 = any). */
  controlPort?: number;
  /** Access-token lifetime in seconds. */
  tokenLifetime?: number;
}

export interface RunningReferenceServer {
  world: World;
  msnp: MsnpServer;
  control: ControlApi;
  /** Base URL of every HTTP endpoint (login, api, skype_login, abch, activesync). */
  httpUrl: string;
  /** `host:port` of the MSNP24 listener. */
  msnpAddress: string;
  controlUrl: string;
  /** The `skype.endpoints` block for the bridge's config. */
  endpoints: {
    login: string;
    api: string;
    skype_login: string;
    abch: string;
    activesync: string;
    msnp: string;
    /** The object service (PROFILE §7.2), served under `/ams`. */
    ams: string;
  };
  close(): Promise<void>;
}

/** The fixtures shipped with the server (run it from source: `tsx refserver/main.ts`). */
export const DEFAULT_FIXTURES = resolve(__dirname, "fixtures", "default.yaml");

export async function startReferenceServer(
  opts: ReferenceServerOptions = {},
): Promise<RunningReferenceServer> {
  const fixtures = opts.fixtures ?? DEFAULT_FIXTURES;
  const world = typeof fixtures === "string" ? World.fromFile(fixtures) : new World(fixtures);
  if (opts.tokenLifetime) world.tokenLifetime = opts.tokenLifetime;
  const control = new ControlApi();
  const http = await startHttpServer(world, control, opts.http);
  const msnp = new MsnpServer(world, opts.msnp, control);
  const addr = await msnp.listen(opts.msnpPort ?? 0, "127.0.0.1");
  control.route("POST", "/world/token-lifetime", (body) => {
    const seconds = Number(body.seconds);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error("seconds must be a positive number");
    world.tokenLifetime = seconds;
    return { tokenLifetime: seconds };
  });
  registerGenerateRoutes(control, world);
  registerMediaRoutes(control, {
    world,
    msnp,
    httpOptions: http.options,
    amsBase: () => `${http.baseUrl()}/ams`,
  });
  const controlUrl = await control.listen(opts.controlPort ?? 0);
  const msnpAddress = `${addr.host}:${addr.port}`;
  return {
    world,
    msnp,
    control,
    httpUrl: http.url,
    msnpAddress,
    controlUrl,
    endpoints: {
      login: http.url,
      api: http.url,
      skype_login: http.url,
      abch: http.url,
      activesync: http.url,
      msnp: msnpAddress,
      ams: `${http.baseUrl()}/ams`,
    },
    async close() {
      await Promise.allSettled([msnp.close(), http.close(), control.close()]);
    },
  };
}
