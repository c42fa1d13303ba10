// SPDX-License-Identifier: Apache-2.0
/** What the provisioning routes use, and the shape of a route. */
import type { Response } from "express";
import type { ProvisioningRequest } from "matrix-appservice-bridge";
import type { Permission } from "../../config/permissions.js";
import type { Config } from "../../config/schema.js";
import type { SkypeEndpoints } from "../../skype/model.js";
import type { SessionManager } from "../../sessions/types.js";
import type { Store } from "../../store/types.js";
import type { Bridge } from "../bridge.js";
import type { BridgeStates } from "../user/bridge-state.js";

export interface ProvisioningDeps {
  config: Config;
  store: Store;
  sessions: Pick<SessionManager, "get" | "link" | "unlink">;
  bridge: Pick<Bridge, "portals" | "puppets" | "store" | "matrix" | "botUserId">;
  states: Pick<BridgeStates, "current">;
  endpoints: SkypeEndpoints;
  permission(mxid: string): Permission;
}

/** A route: the handler gets the Matrix user the request acts for (already checked). */
export interface Route {
  method: "get" | "post";
  path: string;
  handler(user: string, req: ProvisioningRequest, res: Response): Promise<void>;
}
