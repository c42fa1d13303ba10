// SPDX-License-Identifier: Apache-2.0
// Fuzzing SOAP answers of the address book (targets in targets/soap.ts).
import { test } from "node:test";
import { assertTarget, selected } from "./harness.js";
import { soapTargets } from "./targets/soap.js";

for (const target of soapTargets) {
  // The timeout turns a hang into a failure; a run takes a few seconds.
  void test(`fuzz: ${target.name}`, { skip: !selected(target.name), timeout: 120_000 }, () => {
    assertTarget(target);
  });
}
