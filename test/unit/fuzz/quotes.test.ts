// SPDX-License-Identifier: Apache-2.0
// Fuzzing quotes and consumption horizons (targets in targets/quotes.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { quoteTargets } from "./targets/quotes.js";

for (const target of quoteTargets) {
  // The timeout turns a hang into a failure; a run takes a few seconds.
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
