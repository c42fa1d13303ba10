import { test } from "node:test";
import assert from "node:assert/strict";
import { withRetry, type RetryPolicy } from "../../../../../src/bridge/matrix/errors.js";

const noSleep = (): Promise<void> => Promise.resolve();

test("a homeserver that is away is retried past the listed delays until it answers", async () => {
  const policy: RetryPolicy = { delaysMs: [1, 2], forever: true, sleep: noSleep };
  let calls = 0;
  const result = await withRetry(policy, () => {
    calls++;
    if (calls < 20) {
      const err =
        calls % 2
          ? Object.assign(new Error("down"), { code: "ECONNREFUSED" })
          : Object.assign(new Error("bad gateway"), { statusCode: 502 });
      return Promise.reject(err);
    }
    return Promise.resolve("posted");
  });
  assert.equal(result, "posted");
  assert.equal(calls, 20);
});

test("an unexplained exception is retried only for the listed delays; a 4xx not at all", async () => {
  const policy: RetryPolicy = { delaysMs: [1, 2], forever: true, sleep: noSleep };
  let calls = 0;
  await assert.rejects(
    withRetry(policy, () => {
      calls++;
      return Promise.reject(new TypeError("bug"));
    }),
    TypeError,
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    withRetry(policy, () => {
      calls++;
      return Promise.reject(
        Object.assign(new Error("forbidden"), { statusCode: 403, errcode: "M_FORBIDDEN" }),
      );
    }),
  );
  assert.equal(calls, 1);
});
