// SPDX-License-Identifier: Apache-2.0
/**
 * Sign-ins started through the provisioning API (bridgev2's login processes): each has an id, a
 * user and a LoginProcess, and lives until it completes, is cancelled or times out. Steps are
 * shaped as bridgev2's `LoginStep` JSON (`type`, `step_id`, `instructions`, `user_input.fields`).
 */
import { randomBytes } from "node:crypto";
import type { LoginFlow, LoginProcess, LoginStep } from "../../skype/auth/login-process.js";
import { notFound } from "./errors.js";

/** How long a provisioning login may wait for its next step. */
export const PROVISIONING_LOGIN_TIMEOUT_MS = 30 * 60_000;

/** bridgev2's login flows of this bridge. */
export const LOGIN_FLOWS = [
  {
    name: "Password",
    description: "Sign in with the e-mail and password of the Microsoft account used for Skype.",
    id: "password",
  },
  {
    name: "Browser",
    description: "Sign in in a browser, then paste the address of the final (blank) page.",
    id: "browser",
  },
] as const;

export function isLoginFlow(id: string): id is LoginFlow {
  return id === "password" || id === "browser";
}

export interface ProvisioningLogin {
  readonly id: string;
  readonly user: string;
  readonly process: LoginProcess;
}

/** The JSON of one step (the `complete` step names the new login by the user's Skype identity). */
export function stepJson(loginId: string, step: LoginStep): Record<string, unknown> {
  if (step.type === "complete") {
    const r = step.result;
    const loginIdOf = r.identities.skype ?? r.identities.msa ?? `8:${r.skypename}`;
    return {
      login_id: loginId,
      type: "complete",
      step_id: "skype.complete",
      instructions: step.instructions,
      complete: { user_login_id: loginIdOf },
    };
  }
  const instructions = step.url ? `${step.instructions}\n\n${step.url}` : step.instructions;
  return {
    login_id: loginId,
    type: "user_input",
    step_id: `skype.${step.stepId}`,
    instructions,
    user_input: {
      fields: step.fields.map((f) => ({ type: f.type, id: f.id, name: f.label, description: f.label })),
      ...(step.url ? { url: step.url } : {}),
    },
  };
}

export class ProvisioningLogins {
  private readonly logins = new Map<string, ProvisioningLogin & { timer: NodeJS.Timeout }>();

  constructor(private readonly timeoutMs = PROVISIONING_LOGIN_TIMEOUT_MS) {}

  add(user: string, process: LoginProcess): ProvisioningLogin {
    const id = randomBytes(12).toString("hex");
    const timer = setTimeout(() => this.end(id), this.timeoutMs);
    timer.unref();
    const login = { id, user, process, timer };
    this.logins.set(id, login);
    return login;
  }

  /** The login `id` of `user`; another user's login is "not found" too (no hint that it exists). */
  get(id: string, user: string): ProvisioningLogin {
    const login = this.logins.get(id);
    if (!login || login.user !== user) throw notFound("Login not found");
    return login;
  }

  /** Ends (and cancels) a login. */
  end(id: string): void {
    const login = this.logins.get(id);
    if (!login) return;
    clearTimeout(login.timer);
    login.process.cancel();
    this.logins.delete(id);
  }

  stop(): void {
    for (const id of [...this.logins.keys()]) this.end(id);
  }
}
