// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge the benchmarks run: the TypeScript build, as shipped (the Dockerfile runs `npm run
 * build`'s output), not the sources through tsx. tsx compiles with esbuild's `keepNames`, which
 * gives every function made at run time an own `name` property: at 300 idle sessions a heap
 * snapshot held 6,374 such closures, 5.4 KB of property arrays per session that the shipped build
 * does not have (BENCHMARKS.md, P3). BENCH_BRIDGE_SOURCE=1 runs the sources through tsx instead.
 *
 * The build goes to `.bench-build/` in the project (git-ignored), so that the compiled files find
 * `node_modules` and the project's `package.json` as `dist/` does; the probe is compiled with it.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");
const OUT = join(ROOT, ".bench-build");

/** How to start the bridge with the probe loaded: node arguments before `-c`. */
export interface BridgeEntry {
  args: string[];
  /** What the arguments run, for the log. */
  describe: string;
}

let built: BridgeEntry | undefined;

/** Builds once per process (~6 s) and returns how to start the build; or the sources when asked. */
export function bridgeEntry(): BridgeEntry {
  if (process.env.BENCH_BRIDGE_SOURCE === "1") {
    return {
      args: [
        "--import",
        "tsx",
        "--import",
        join(ROOT, "bench", "lib", "probe.ts"),
        join(ROOT, "src", "main.ts"),
      ],
      describe: "src/main.ts through tsx (BENCH_BRIDGE_SOURCE=1)",
    };
  }
  if (built) return built;
  const tsc = createRequire(join(ROOT, "package.json")).resolve("typescript/bin/tsc");
  for (const project of ["tsconfig.build.json", join("bench", "tsconfig.probe.json")]) {
    execFileSync(process.execPath, [tsc, "-p", project, "--outDir", OUT], { cwd: ROOT, stdio: "inherit" });
  }
  built = {
    args: ["--import", join(OUT, "bench", "lib", "probe.js"), join(OUT, "src", "main.js")],
    describe: "the TypeScript build (.bench-build/src/main.js)",
  };
  return built;
}
