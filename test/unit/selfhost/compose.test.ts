// SPDX-License-Identifier: Apache-2.0
/**
 * The self-hosting kit holds together without a Docker engine: docker-compose.yml and the Dockerfile
 * are read as files and checked against each other, against the compose bridge config
 * (docker/bridge/config.yaml, validated by the bridge's own loader), against config.sample.yaml and
 * against registration.yaml.example: ports, paths, the shared registration file, the bridge's URL and
 * the homeserver's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, posix } from "node:path";
import yaml from "js-yaml";
import { TOKEN_KEY_ENV, loadConfig, type Config } from "../../../src/config/index.js";
import { generateRegistration, type Registration } from "../../../src/bridge/matrix/registration.js";
import {
  ancestry,
  argAfter,
  argsAfter,
  execForm,
  loadCompose,
  mountOf,
  mounts,
  parseDockerfile,
  path,
  read,
  shellCommands,
  stageEnv,
  type ComposeService,
  type Stage,
} from "./files.js";

const ENV = { [TOKEN_KEY_ENV]: "a passphrase for the self-hosting tests" };
const SYNAPSE_IMAGE = "matrixdotorg/synapse";

const stages = parseDockerfile(read("Dockerfile"));
const runtime = stages[stages.length - 1]!;
const compose = loadCompose();
const services = compose.services;
const dockerConfig: Config = loadConfig(path("docker", "bridge", "config.yaml"), ENV);
const sample: Config = loadConfig(path("config.sample.yaml"), ENV);

function service(name: string): ComposeService {
  const s = services[name];
  assert.ok(s, `docker-compose.yml has no service "${name}"`);
  return s;
}

/** The instructions of one keyword in a stage. */
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  assert.equal(found.length, 1, `expected one ${keyword} in stage ${stage.name ?? stage.from}`);
  return found[0]!;
};

/** The stage that runs `command` (exactly, after collapsing spaces). */
function stageRunning(command: string): Stage {
  const found = stages.filter((s) => shellCommands(s).some((c) => c.replace(/\s+/g, " ") === command));
  assert.equal(found.length, 1, `expected one stage running "${command}", found ${found.length}`);
  return found[0]!;
}

const workdir = one(runtime, "WORKDIR").args;
/** A path in the runtime image: relative ones are relative to its WORKDIR. */
const inImage = (p: string): string => posix.resolve(workdir, p);

/** The --from stage of the runtime's COPY to `target`. */
function copiedFrom(target: string): string | undefined {
  const copy = all(runtime, "COPY").find((i) => inImage(i.args.split(/\s+/).pop()!) === inImage(target));
  return copy?.flags.from;
}

/** The image the bridge service builds; bridge-init and refserver reuse it. */
const bridgeImage = service("bridge").image;

void test("the Dockerfile builds on Node 20 slim with a toolchain for better-sqlite3, and ships production dependencies only", () => {
  const nodeMajor = read(".node-version").trim().split(".")[0]!;
  const names = new Set(stages.map((s) => s.name));
  const bases = stages.filter((s) => !names.has(s.from)).map((s) => s.from);
  assert.ok(bases.length > 0);
  for (const base of bases) {
    assert.match(base, new RegExp(`^node:${nodeMajor}(\\.[0-9.]+)?(-[a-z]+)?-slim$`), `base image ${base}`);
  }

  const build = stageRunning("npm run build");
  const commands = ancestry(stages, build).reverse().flatMap(shellCommands);
  const ci = commands.indexOf("npm ci");
  assert.ok(ci >= 0, "the build stage runs npm ci (every dependency: TypeScript is a dev dependency)");
  assert.ok(ci < commands.indexOf("npm run build"), "npm ci runs before the build");
  const prodDeps = stageRunning("npm ci --omit=dev");
  assert.notEqual(prodDeps, runtime);

  for (const stage of [build, prodDeps]) {
    // node-gyp compiles better-sqlite3: python3, make, g++ and Node's own headers.
    const lineage = ancestry(stages, stage);
    const installed = lineage.flatMap(shellCommands).filter((c) => c.startsWith("apt-get install"));
    for (const tool of ["python3", "make", "g++"]) {
      assert.ok(
        installed.some((c) => c.split(/\s+/).includes(tool)),
        `${tool} installed for ${stage.name}`,
      );
    }
    const env = Object.assign({}, ...[...lineage].reverse().map(stageEnv)) as Record<string, string>;
    assert.equal(env.npm_config_nodedir, "/usr/local", "headers of the image's own Node (node:*-slim)");
    assert.equal(env.npm_config_build_from_source, "true");
  }

  // The runtime stage is a fresh Node image: dependencies from prod-deps, the build from build.
  assert.ok(!names.has(runtime.from), "the runtime stage starts from the Node image, not a build stage");
  assert.equal(copiedFrom("node_modules"), prodDeps.name);
  assert.equal(copiedFrom("dist"), build.name);
  const runtimeWords = shellCommands(runtime).flatMap((c) => c.split(/\s+/));
  for (const tool of ["python3", "make", "g++"])
    assert.ok(!runtimeWords.includes(tool), `no ${tool} at run time`);
  // The npm overrides install stubs/ as a link in node_modules: npm ci needs it, and so does the runtime.
  const copiesStubs = (lineage: Stage[]) =>
    lineage.some((s) => all(s, "COPY").some((i) => i.args.split(/\s+/)[0] === "stubs"));
  for (const stage of [build, prodDeps, runtime]) {
    assert.ok(copiesStubs(ancestry(stages, stage)), `stage ${stage.name} has stubs/`);
  }

  const user = one(runtime, "USER").args;
  assert.ok(!["root", "0", "0:0"].includes(user.split(":")[0]!), `runs as ${user}, not root`);
  assert.ok(all(runtime, "HEALTHCHECK").length === 1, "a HEALTHCHECK");
});

void test("the image's port, health check, volume and entry point agree with the compose bridge config", () => {
  const port = String(dockerConfig.appservice.port);
  const exposed = all(runtime, "EXPOSE").flatMap((i) => i.args.split(/\s+/));
  assert.ok(exposed.includes(port) || exposed.includes(`${port}/tcp`), `EXPOSE ${port}`);

  const health = one(runtime, "HEALTHCHECK").args;
  const url = /(https?:\/\/[^'"\s]+)/.exec(health)?.[1];
  assert.ok(url, "the health check calls a URL");
  const u = new URL(url);
  assert.equal(u.port, port, "the health check asks the appservice port");
  assert.ok(["127.0.0.1", "localhost"].includes(u.hostname));
  assert.equal(u.pathname, "/health");

  const volumes = all(runtime, "VOLUME").flatMap((i) => execForm(i.args) ?? i.args.split(/\s+/));
  const dbDir = dirname(dockerConfig.database.path);
  assert.ok(volumes.includes(dbDir), `VOLUME ${dbDir} holds the database (${dockerConfig.database.path})`);

  // ENTRYPOINT runs the package's bin, as built (tsconfig.build.json writes dist/).
  const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string> };
  const entry = execForm(one(runtime, "ENTRYPOINT").args);
  assert.deepEqual(entry, ["node", inImage(pkg.bin["skype-bridge"]!)]);

  // The one-shot registration writer is in the image where bridge-init runs it.
  const init = service("bridge-init");
  const script = init.entrypoint?.find((a) => a.endsWith(".sh"));
  assert.ok(script, "bridge-init runs a script");
  const copy = all(runtime, "COPY").find((i) => inImage(i.args.split(/\s+/).pop()!) === script);
  assert.ok(copy, `the Dockerfile copies ${script}`);
  assert.ok(existsSync(path(copy.args.split(/\s+/)[0]!)), `${copy.args.split(/\s+/)[0]} exists`);

  // The reference server runs from the build with its fixtures where refserver/index.ts looks.
  const refserver = service("refserver");
  assert.deepEqual(refserver.entrypoint, ["node", inImage("dist/refserver/main.js")]);
  const fixtures = all(runtime, "COPY").find((i) => i.args.split(/\s+/)[0] === "refserver/fixtures");
  assert.ok(fixtures, "the refserver's fixtures are copied");
  assert.equal(inImage(fixtures.args.split(/\s+/).pop()!), inImage("dist/refserver/fixtures"));
});

void test("compose runs the official Synapse image, the bridge built from the Dockerfile, and the reference server only under the demo profile", () => {
  for (const name of ["synapse", "synapse-init"]) {
    assert.equal(service(name).image?.split(":")[0], SYNAPSE_IMAGE, `${name} image`);
  }
  const build = service("bridge").build;
  assert.ok(build && typeof build === "object", "the bridge service has a build section");
  assert.equal(build.context, ".");
  assert.equal(build.dockerfile, "Dockerfile");
  assert.ok(bridgeImage, "the built image has a name the other services reuse");
  for (const name of ["bridge-init", "refserver"]) {
    assert.equal(service(name).image, bridgeImage, `${name} runs the bridge's image`);
  }

  assert.deepEqual(service("refserver").profiles, ["demo"]);
  for (const [name, s] of Object.entries(services)) {
    if (name !== "refserver") assert.equal(s.profiles, undefined, `${name} runs without a profile`);
  }
  // Start order: both one-shot services, then Synapse once they succeeded, then the bridge.
  const dependsOn = (name: string) => service(name).depends_on as Record<string, { condition?: string }>;
  assert.equal(dependsOn("synapse")["synapse-init"]?.condition, "service_completed_successfully");
  assert.equal(dependsOn("synapse")["bridge-init"]?.condition, "service_completed_successfully");
  assert.equal(dependsOn("bridge").synapse?.condition, "service_healthy");
  assert.ok(service("synapse").healthcheck?.test, "Synapse has a health check the bridge waits for");

  // Every named volume is declared; the database lives in one.
  const declared = Object.keys(compose.volumes ?? {});
  for (const [name, s] of Object.entries(services)) {
    for (const m of mounts(s).filter((x) => x.named)) {
      assert.ok(declared.includes(m.source), `${name}: volume ${m.source} declared`);
    }
    for (const m of mounts(s).filter((x) => !x.named)) {
      assert.ok(existsSync(path(m.source)), `${name}: ${m.source} exists in the repository`);
    }
  }
  const db = mountOf(service("bridge"), dockerConfig.database.path);
  assert.ok(db?.named && !db.readOnly, "the database is in a writable named volume");
});

void test("Synapse and the bridge read one registration file, which bridge-init writes", () => {
  const bridge = service("bridge");
  const init = service("bridge-init");
  const synapse = service("synapse");
  const registration = argAfter(bridge.command, "-f");
  assert.ok(registration, "the bridge is started with -f <registration>");
  assert.deepEqual(init.command?.slice(0, 2), [argAfter(bridge.command, "-c"), registration]);

  const writer = mountOf(init, registration);
  assert.ok(writer?.named && !writer.readOnly, "bridge-init writes into a named volume");
  for (const [name, s] of [
    ["bridge", bridge],
    ["synapse", synapse],
  ] as const) {
    const m = mountOf(s, registration);
    assert.ok(m, `${name} mounts ${registration}`);
    assert.equal(m.source, writer.source, `${name} mounts the same volume as bridge-init`);
    assert.equal(m.target, writer.target, `${name} mounts it at the same path`);
  }

  // Synapse's configs: its generated homeserver.yaml (synapse-init's volume) and our overlay.
  assert.equal(synapse.command?.[0], "run");
  const configs = argsAfter(synapse.command, "--config-path");
  const generated = service("synapse-init").environment?.SYNAPSE_CONFIG_PATH ?? "/data/homeserver.yaml";
  assert.equal(configs[0], generated, "Synapse reads the config synapse-init generates first");
  assert.equal(mountOf(synapse, generated)?.source, mountOf(service("synapse-init"), generated)?.source);
  const overlays = configs
    .slice(1)
    .map((c) => mountOf(synapse, c))
    .filter((m) => m && !m.named);
  assert.equal(overlays.length, 1, "one overlay from the repository");
  const overlay = yaml.load(read(overlays[0]!.source)) as { app_service_config_files?: string[] };
  assert.deepEqual(overlay.app_service_config_files, [registration]);

  // Both bridge containers read the same config file from the repository.
  for (const s of [bridge, init]) {
    const config = mountOf(s, argAfter(bridge.command, "-c")!);
    assert.equal(config?.source, "./docker/bridge/config.yaml");
    assert.ok(config.readOnly);
  }
});

void test("the bridge's URL and the homeserver's agree across the compose file, the bridge config and Synapse", () => {
  const init = service("bridge-init");
  const synapse = service("synapse");
  const appservice = dockerConfig.appservice;

  // The registration's URL (bridge-init's third argument) is appservice.url: the bridge service.
  const url = init.command?.[2];
  assert.equal(url, appservice.url);
  const asUrl = new URL(url);
  assert.equal(services[asUrl.hostname]?.image, bridgeImage, `${asUrl.hostname} is a bridge service`);
  assert.ok(argAfter(services[asUrl.hostname]!.command, "-f"), `${asUrl.hostname} runs the bridge`);
  assert.equal(asUrl.port, String(appservice.port));
  assert.equal(appservice.bind_address, "0.0.0.0", "reachable from the Synapse container");

  // homeserver.url is the synapse service on the port Synapse listens on in its container.
  const hsUrl = new URL(dockerConfig.homeserver.url);
  assert.equal(hsUrl.hostname, "synapse");
  const published = (synapse.ports ?? []).map((p) => p.split(":"));
  assert.ok(
    published.some((p) => p[p.length - 1] === hsUrl.port),
    `Synapse's port ${hsUrl.port} is published`,
  );
  const health = new URL(synapse.healthcheck!.test!.find((a) => a.startsWith("http"))!);
  assert.equal(health.port, hsUrl.port);
  assert.equal(dockerConfig.homeserver.domain, service("synapse-init").environment?.SYNAPSE_SERVER_NAME);

  // The token key reaches every container that loads the config.
  for (const name of ["bridge", "bridge-init"]) {
    assert.ok(service(name).environment?.[TOKEN_KEY_ENV], `${name} gets ${TOKEN_KEY_ENV}`);
  }
});

void test("the compose bridge config, config.sample.yaml and registration.yaml.example agree", () => {
  // Same port and bridge identity (so the same registration namespaces); only the addresses differ.
  const identity = (c: Config) => ({
    port: c.appservice.port,
    id: c.appservice.id,
    bot: c.appservice.bot_localpart,
    template: c.puppets.localpart_template,
    domain: c.homeserver.domain,
  });
  assert.deepEqual(identity(dockerConfig), identity(sample));
  assert.equal(new URL(dockerConfig.appservice.url).port, new URL(sample.appservice.url).port);

  // Synapse is published where the sample (and the README's non-Docker setup) expects it.
  const sampleHs = new URL(sample.homeserver.url);
  assert.ok(
    (service("synapse").ports ?? []).some((p) => p.startsWith(`${sampleHs.hostname}:${sampleHs.port}:`)),
    `Synapse published on ${sampleHs.host}`,
  );

  // Both point at the reference server, which the demo profile starts on those ports.
  assert.deepEqual(dockerConfig.skype.endpoints, sample.skype.endpoints);
  assert.equal(dockerConfig.skype.msnp_tls, sample.skype.msnp_tls);
  const refserver = service("refserver");
  assert.equal(refserver.network_mode, "service:bridge", "on the bridge's 127.0.0.1");
  const httpPort = argAfter(refserver.command, "--http-port");
  for (const name of ["login", "api", "skype_login", "abch", "activesync"] as const) {
    assert.equal(dockerConfig.skype.endpoints[name], `http://127.0.0.1:${httpPort}`);
  }
  assert.equal(dockerConfig.skype.endpoints.msnp, `127.0.0.1:${argAfter(refserver.command, "--msnp-port")}`);

  // registration.yaml.example is written for the sample; under compose only the URL differs.
  const example = yaml.load(read("registration.yaml.example")) as Registration;
  assert.equal(example.url, sample.appservice.url);
  const composeReg = generateRegistration({
    id: dockerConfig.appservice.id,
    url: dockerConfig.appservice.url,
    botLocalpart: dockerConfig.appservice.bot_localpart,
    domain: dockerConfig.homeserver.domain,
    localpartTemplate: dockerConfig.puppets.localpart_template,
  });
  assert.equal(example.id, composeReg.id);
  assert.equal(example.sender_localpart, composeReg.sender_localpart);
  assert.deepEqual(example.namespaces, composeReg.namespaces);
  assert.ok(
    read("registration.yaml.example").includes(dockerConfig.appservice.url),
    "mentions the compose URL",
  );
});

void test(".dockerignore keeps secrets and local state out of the build context, not what the Dockerfile copies", () => {
  const patterns = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("!"))
    .map((p) => p.replace(/^\/+|\/+$/g, ""));
  const toRegex = (p: string) =>
    new RegExp(
      "^" +
        p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*\*/g, "\0")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]")
          .replace(/\0/g, ".*") +
        "(/.*)?$",
    );
  const ignored = (p: string) => patterns.some((pattern) => toRegex(pattern).test(p));
  for (const p of ["node_modules", ".git", "dist", ".env", "config.yaml", "registration.yaml", "demo-data"]) {
    assert.ok(ignored(p), `${p} is kept out of the build context`);
  }
  const sources = stages.flatMap((s) =>
    all(s, "COPY")
      .filter((i) => i.flags.from === undefined)
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1)),
  );
  assert.ok(sources.length > 0);
  for (const source of sources) {
    const p = source.replace(/^\.\//, "").replace(/\/$/, "");
    assert.ok(!ignored(p), `${p} is copied by the Dockerfile but excluded by .dockerignore`);
    assert.ok(existsSync(path(p)), `${p} exists`);
  }
});
