"use strict";
// Stand-in for @matrix-org/matrix-sdk-crypto-nodejs. The real package downloads a native
// binary from GitHub at install time, which our machines cannot reach. Libraries import it at
// load time but only use it when end-to-bridge encryption is switched on, so every export here
// is a value that throws a clear error the moment it is used.
const MESSAGE =
  "End-to-bridge encryption is unavailable: the native @matrix-org/matrix-sdk-crypto-nodejs " +
  "binding is not installed in this build of the Skype bridge.";

class CryptoUnavailableError extends Error {
  constructor() {
    super(MESSAGE);
    this.name = "CryptoUnavailableError";
    this.code = "E2EE_UNAVAILABLE";
  }
}

const cache = new Map();
function unavailable(name) {
  if (!cache.has(name)) {
    const fn = function () {
      throw new CryptoUnavailableError();
    };
    Object.defineProperty(fn, "name", { value: name });
    // Enum-like members (e.g. StoreType.Sqlite) resolve to their own name so that merely
    // reading them does not throw; constructing or calling anything does.
    cache.set(
      name,
      new Proxy(fn, {
        get(target, prop) {
          if (prop in target) return target[prop];
          return typeof prop === "string" ? `${name}.${prop}` : undefined;
        },
      }),
    );
  }
  return cache.get(name);
}

module.exports = new Proxy(
  { available: false, CryptoUnavailableError, MESSAGE },
  {
    get(target, prop) {
      if (prop in target) return target[prop];
      if (typeof prop !== "string" || prop === "__esModule" || prop === "then" || prop === "default") {
        return undefined;
      }
      return unavailable(prop);
    },
  },
);
