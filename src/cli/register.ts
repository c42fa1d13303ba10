// SPDX-License-Identifier: Apache-2.0
/** `skype-bridge -r`: writes the appservice registration for the config. */
import type { Config } from "../config/schema.js";
import { generateRegistration, writeRegistration } from "../bridge/matrix/registration.js";

export function writeRegistrationFile(config: Config, file: string, url: string): void {
  const reg = generateRegistration({
    id: config.appservice.id,
    url,
    botLocalpart: config.appservice.bot_localpart,
    domain: config.homeserver.domain,
    localpartTemplate: config.puppets.localpart_template,
    encryption: config.encryption.enabled,
  });
  writeRegistration(file, reg);
}
