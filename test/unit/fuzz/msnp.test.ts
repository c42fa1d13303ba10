// SPDX-License-Identifier: Apache-2.0
// Fuzzing the MSNP24 frame parser and multi-part bodies (targets in targets/msnp.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { msnpTargets } from "./targets/msnp.js";

for (const target of msnpTargets) {
  // The timeout turns a hang into a failure; a run takes a few seconds.
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
