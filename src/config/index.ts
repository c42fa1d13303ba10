// SPDX-License-Identifier: Apache-2.0
/** The bridge's configuration: loading, validation, types and permissions. */
export { ConfigError, type ConfigProblem } from "./errors.js";
export { loadConfig, parseConfig, validateConfig } from "./load.js";
export { permissionFor, type Permission } from "./permissions.js";
export {
  TOKEN_KEY_ENV,
  configSchema,
  type AppserviceConfig,
  type Config,
  type DatabaseConfig,
  type EncryptionConfig,
  type HomeserverConfig,
  type LimitsConfig,
  type LogFormat,
  type LoggingConfig,
  type LogLevel,
  type PermissionLevel,
  type PuppetsConfig,
  type SecretsConfig,
  type SkypeConfig,
  type SkypeEndpointsConfig,
} from "./schema.js";
export { tokenKeyKind, type TokenKeyKind } from "./syntax.js";
