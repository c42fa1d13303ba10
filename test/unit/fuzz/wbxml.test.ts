// SPDX-License-Identifier: Apache-2.0
// Fuzzing the WBXML decoder and encoder (targets in targets/wbxml.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { wbxmlTargets } from "./targets/wbxml.js";

for (const target of wbxmlTargets) {
  // The timeout turns a hang into a failure; a run takes a few seconds.
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
