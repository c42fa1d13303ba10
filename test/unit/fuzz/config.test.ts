// SPDX-License-Identifier: Apache-2.0
// Fuzzing configuration loading (targets in targets/config.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { configTargets } from "./targets/config.js";

for (const target of configTargets) {
  // The timeout turns a hang into a failure; a run takes a few seconds.
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
