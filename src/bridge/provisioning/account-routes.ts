// SPDX-License-Identifier: Apache-2.0
/**
 * The account routes of the provisioning API, shaped as mautrix bridgev2's v3 API: `whoami`,
 * `login/flows`, `login/start/{flow}`, `login/step/{process}/{step}/{type}`, `login/cancel/{process}`,
 * `logout/{login}` and `logins` (which also carries each login's bridge state).
 */
import type { Response } from "express";
import type { ProvisioningRequest } from "matrix-appservice-bridge";
import { LoginProcess } from "../../skype/auth/login-process.js";
import { SkypeErrorCode, isSkypeError } from "../../skype/errors.js";
import { Logger, errorText } from "../../util/logger.js";
import type { BridgeState } from "../user/bridge-state.js";
import { ProvisioningError, ProvisioningErrorCode, badRequest, fromSkypeError, notFound } from "./errors.js";
import { LOGIN_FLOWS, isLoginFlow, stepJson, type ProvisioningLogins } from "./logins.js";
import type { ProvisioningDeps, Route } from "./types.js";

const log = new Logger("bridge.provisioning");

/** A sign-in failure in API words (the management room's sentences name chat commands). */
function loginFailure(e: unknown): ProvisioningError {
  if (!isSkypeError(e)) return fromSkypeError(e, "Login failed because of an internal error.");
  const sentences: Partial<Record<string, string>> = {
    [SkypeErrorCode.WrongPassword]: "The e-mail or password is not correct.",
    [SkypeErrorCode.SecondFactor]: "This account asks for a second verification step; use the browser flow.",
    [SkypeErrorCode.StateMismatch]: "The address belongs to a different sign-in attempt.",
    [SkypeErrorCode.BadRedirect]: "That address holds no sign-in result.",
    [SkypeErrorCode.AccountNotActive]: e.message,
    [SkypeErrorCode.Network]: "The Skype sign-in servers could not be reached.",
  };
  return fromSkypeError(e, sentences[e.code] ?? `Login failed (${e.code}).`);
}

/** The user's logins (zero or one: a Matrix user links one Skype account) with their states. */
function loginsOf(deps: ProvisioningDeps, user: string): { id: string; name: string; state: BridgeState }[] {
  const row = deps.store.users.get(user);
  const id = row?.skypeMri ?? row?.liveMri;
  if (!id) return [];
  const state = deps.states.current(user);
  return [{ id, name: row?.skypeName ?? row?.accountEmail ?? id, state }];
}

export function accountRoutes(deps: ProvisioningDeps, logins: ProvisioningLogins): Route[] {
  return [
    { method: "get", path: "/v3/whoami", handler: (user, _req, res) => whoami(deps, user, res) },
    {
      method: "get",
      path: "/v3/login/flows",
      handler: (_u, _r, res) => Promise.resolve(void res.json({ flows: LOGIN_FLOWS })),
    },
    {
      method: "post",
      path: "/v3/login/start/:flow",
      handler: (user, req, res) => start(deps, logins, user, req, res),
    },
    {
      method: "post",
      path: "/v3/login/step/:process/:step/:type",
      handler: (user, req, res) => step(deps, logins, user, req, res),
    },
    {
      method: "post",
      path: "/v3/login/cancel/:process",
      handler: (user, req, res) => {
        logins.end(logins.get(String(req.params.process), user).id);
        res.json({});
        return Promise.resolve();
      },
    },
    { method: "post", path: "/v3/logout/:login", handler: (user, req, res) => logout(deps, user, req, res) },
    {
      method: "get",
      path: "/v3/logins",
      handler: (user, _req, res) => {
        const list = loginsOf(deps, user);
        res.json({ login_ids: list.map((l) => l.id), logins: list });
        return Promise.resolve();
      },
    },
  ];
}

function whoami(deps: ProvisioningDeps, user: string, res: Response): Promise<void> {
  const row = deps.store.users.get(user);
  res.json({
    network: { displayname: "Skype", network_url: "https://www.skype.com", network_id: "skype" },
    login_flows: LOGIN_FLOWS,
    homeserver: deps.config.homeserver.domain,
    bridge_bot: deps.bridge.botUserId,
    command_prefix: "!skype",
    ...(row?.managementRoomId ? { management_room: row.managementRoomId } : {}),
    logins: loginsOf(deps, user).map(({ id, name, state }) => ({
      state_event: state.state_event,
      state_ts: state.timestamp,
      state,
      id,
      name,
      profile: state.remote_profile ?? {},
    })),
  });
  return Promise.resolve();
}

function start(
  deps: ProvisioningDeps,
  logins: ProvisioningLogins,
  user: string,
  req: ProvisioningRequest,
  res: Response,
): Promise<void> {
  const flow = String(req.params.flow);
  if (!isLoginFlow(flow)) throw notFound(`Unknown login flow "${flow}"`);
  const process = new LoginProcess(deps.endpoints, { logger: log });
  const first = process.start(flow);
  const login = logins.add(user, process);
  log.info("provisioning login started", { user, flow });
  res.json(stepJson(login.id, first));
  return Promise.resolve();
}

async function step(
  deps: ProvisioningDeps,
  logins: ProvisioningLogins,
  user: string,
  req: ProvisioningRequest,
  res: Response,
): Promise<void> {
  const login = logins.get(String(req.params.process), user);
  const current = login.process.current;
  if (!current || current.type === "complete" || req.params.type === "complete") {
    throw new ProvisioningError(
      ProvisioningErrorCode.LoginAlreadyFinished,
      "Login process was already finished",
      410,
    );
  }
  if (req.params.type !== "user_input")
    throw badRequest(ProvisioningErrorCode.Unrecognized, "This step takes user_input");
  if (req.params.step !== `skype.${current.stepId}`)
    throw badRequest(ProvisioningErrorCode.Unrecognized, "That is not the current step");
  const body = req.body as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest(ProvisioningErrorCode.BadJson, "The body must be a JSON object of fields");
  const fields: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") fields[k] = v;
  let next;
  try {
    next = await login.process.submitUserInput(fields);
  } catch (e) {
    if (isSkypeError(e) && e.code === SkypeErrorCode.Aborted) {
      throw new ProvisioningError(ProvisioningErrorCode.LoginCancelled, "Login process was cancelled", 410);
    }
    log.info("provisioning login step failed", { user, error: errorText(e) });
    throw loginFailure(e);
  }
  if (next.type === "complete") {
    logins.end(login.id);
    await deps.sessions.link(user, next.result);
    log.info("account linked through the provisioning API", { user });
  }
  res.json(stepJson(login.id, next));
}

async function logout(
  deps: ProvisioningDeps,
  user: string,
  req: ProvisioningRequest,
  res: Response,
): Promise<void> {
  const wanted = String(req.params.login);
  const mine = loginsOf(deps, user);
  if (!mine.length || (wanted !== "all" && !mine.some((l) => l.id === wanted)))
    throw notFound("Login not found");
  await deps.sessions.unlink(user);
  log.info("account unlinked through the provisioning API", { user });
  res.json({});
}
