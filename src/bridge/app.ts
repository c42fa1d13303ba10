// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's composition root: the store, the Matrix side (SkypeBridge) and the handlers that
 * connect them. main.ts builds one and starts it.
 */
import type { Config } from "../config/schema.js";
import type { Store } from "../store/types.js";
import { Logger } from "../util/logger.js";
import type { MatrixEventJson } from "./appservice.js";
import { managementRoomsFromStore } from "./management-store.js";
import type { Registration } from "./registration.js";
import { SkypeBridge } from "./skype-bridge.js";

const log = new Logger("bridge.app");

export interface BridgeAppOptions {
  config: Config;
  registration: Registration;
  store: Store;
  version: string;
}

export class BridgeApp {
  readonly matrix: SkypeBridge;

  constructor(private readonly opts: BridgeAppOptions) {
    const { store } = opts;
    this.matrix = new SkypeBridge({
      config: opts.config,
      registration: opts.registration,
      version: opts.version,
      managementStore: managementRoomsFromStore(store),
      accept: (txnId, events) => this.accept(txnId, events),
    });
  }

  /** A transaction Synapse re-sends after we answered it once is not dispatched again. */
  private accept(txnId: string, events: MatrixEventJson[]): MatrixEventJson[] {
    const fresh = this.opts.store.txns.mark(txnId);
    if (!fresh) log.debug("transaction already handled", { txnId });
    return fresh ? events : [];
  }

  async start(port: number): Promise<void> {
    await this.matrix.start(port);
  }

  async stop(): Promise<void> {
    await this.matrix.stop();
  }
}
