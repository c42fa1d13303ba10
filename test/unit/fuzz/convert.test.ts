// SPDX-License-Identifier: Apache-2.0
// Fuzzing the message converters, both ways (targets in targets/convert.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { convertTargets } from "./targets/convert.js";

for (const target of convertTargets) {
  // The timeout turns a hang into a failure; a run takes a few seconds.
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
