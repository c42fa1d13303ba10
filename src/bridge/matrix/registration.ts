// SPDX-License-Identifier: Apache-2.0
/**
 * The appservice registration Synapse reads (`app_service_config_files`), generated from the config.
 * We register the stable `receive_ephemeral` flag; our AppService accepts both transaction keys
 * (stable `ephemeral` first, so a transaction carrying both is read once). With end-to-bridge
 * encryption on, the registration also asks for the transaction extensions the crypto needs:
 * `org.matrix.msc3202: true` (one-time-key counts, fallback key types and device list changes of
 * the bridge's users) and the legacy `de.sorunome.msc2409.push_ephemeral: true` (Synapse sends
 * to-device events under `de.sorunome.msc2409.to_device` with either flag; the legacy one is kept
 * for homeservers that only know it).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import yaml from "js-yaml";
import { escapeRegex, puppetUserIdRegex } from "../ghosts/ids.js";

export interface RegistrationInput {
  id: string;
  url: string | null;
  botLocalpart: string;
  domain: string;
  /** The puppet localpart template, e.g. `skype_{id}`. */
  localpartTemplate: string;
  /** End-to-bridge encryption on: ask for the MSC3202/MSC2409 transaction extensions. */
  encryption?: boolean;
}

export interface Registration {
  id: string;
  url: string | null;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  rate_limited: boolean;
  namespaces: {
    users: { exclusive: boolean; regex: string }[];
    aliases: { exclusive: boolean; regex: string }[];
    rooms: { exclusive: boolean; regex: string }[];
  };
  protocols: string[];
  receive_ephemeral: boolean;
  "de.sorunome.msc2409.push_ephemeral"?: boolean;
  "org.matrix.msc3202"?: boolean;
}

export function generateRegistration(input: RegistrationInput): Registration {
  return {
    id: input.id,
    url: input.url,
    as_token: randomBytes(32).toString("hex"),
    hs_token: randomBytes(32).toString("hex"),
    sender_localpart: input.botLocalpart,
    rate_limited: false,
    namespaces: {
      users: [
        { exclusive: true, regex: `^@${escapeRegex(input.botLocalpart)}:${escapeRegex(input.domain)}$` },
        { exclusive: true, regex: puppetUserIdRegex(input.localpartTemplate, input.domain) },
      ],
      aliases: [],
      rooms: [],
    },
    protocols: ["skype"],
    receive_ephemeral: true,
    ...(input.encryption ? { "de.sorunome.msc2409.push_ephemeral": true, "org.matrix.msc3202": true } : {}),
  };
}

export function writeRegistration(path: string, reg: Registration): void {
  writeFileSync(path, yaml.dump(reg, { lineWidth: 200 }), { mode: 0o600 });
}

/** Reads a registration file; throws an Error naming the missing fields. */
export function readRegistration(path: string): Registration {
  const raw = yaml.load(readFileSync(path, "utf8")) as Partial<Registration> | null;
  const missing = (["id", "as_token", "hs_token", "sender_localpart", "namespaces"] as const).filter(
    (k) => !raw || raw[k] === undefined,
  );
  if (!raw || missing.length) {
    throw new Error(`registration file ${path} is missing: ${missing.join(", ") || "everything"}`);
  }
  return raw as Registration;
}
