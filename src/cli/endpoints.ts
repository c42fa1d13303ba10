// SPDX-License-Identifier: Apache-2.0
import type { Config } from "../config/schema.js";
import type { SkypeEndpoints } from "../skype/model.js";

/** The protocol client's endpoint set from the config's `skype` section. */
export function endpointsFromConfig(config: Config): SkypeEndpoints {
  const e = config.skype.endpoints;
  return {
    login: e.login,
    api: e.api,
    skype_login: e.skype_login,
    abch: e.abch,
    activesync: e.activesync,
    msnp: e.msnp,
    msnpTls: config.skype.msnp_tls,
  };
}
