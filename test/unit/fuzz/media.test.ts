// SPDX-License-Identifier: Apache-2.0
// Fuzzing images and files: URIObjects, the object-service uri check, image headers (targets in targets/media.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { mediaTargets } from "./targets/media.js";

for (const target of mediaTargets) {
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
