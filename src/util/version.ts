// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The version in package.json (found from src/ and from dist/src/). */
export function packageVersion(): string {
  for (const rel of ["../..", "../../.."]) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, rel, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "skype-matrix-bridge" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}
