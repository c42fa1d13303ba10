import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedQueue } from "../../../src/util/keyed-queue.js";

test("tasks of one key run in order, one at a time; a failure does not stop the queue", async () => {
  const errors: unknown[] = [];
  const q = new KeyedQueue((_k, e) => errors.push(e));
  const order: string[] = [];
  let running = 0;
  const task =
    (name: string, ms: number, fail = false) =>
    async () => {
      running++;
      assert.equal(running, 1);
      await new Promise((r) => setTimeout(r, ms));
      order.push(name);
      running--;
      if (fail) throw new Error(name);
    };
  void q.push("a", task("1", 20));
  void q.push("a", task("2", 1, true));
  void q.push("a", task("3", 5));
  await q.drain();
  assert.deepEqual(order, ["1", "2", "3"]);
  assert.equal(errors.length, 1);
  assert.equal(q.size, 0);
});

test("different keys run concurrently", async () => {
  const q = new KeyedQueue(() => undefined);
  const order: string[] = [];
  void q.push("a", async () => {
    await new Promise((r) => setTimeout(r, 30));
    order.push("slow-a");
  });
  void q.push("b", () => {
    order.push("fast-b");
    return Promise.resolve();
  });
  await q.drain();
  assert.deepEqual(order, ["fast-b", "slow-a"]);
});
