import { test } from "node:test";
import assert from "node:assert/strict";
import { ConcurrencyLimit, KeyedQueue } from "../../../src/util/keyed-queue.js";

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

test("ConcurrencyLimit runs at most `limit` tasks at once, the rest in arrival order; failures free their slot", async () => {
  const limit = new ConcurrencyLimit(2);
  const gates: Array<() => void> = [];
  const started: number[] = [];
  let peak = 0;
  let active = 0;
  const task = (i: number) => () =>
    new Promise<number>((resolve, reject) => {
      started.push(i);
      active++;
      peak = Math.max(peak, active);
      gates[i] = () => {
        active--;
        if (i === 1) reject(new Error("boom"));
        else resolve(i);
      };
    });
  const results = [0, 1, 2, 3, 4].map((i) => limit.run(task(i)));
  const settled = Promise.allSettled(results);
  const until = async (n: number) => {
    while (started.length < n) await new Promise((r) => setImmediate(r));
  };
  await until(2);
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(limit.load, { running: 2, waiting: 3 });
  gates[1]!(); // a failure frees its slot for the next in line
  await until(3);
  assert.deepEqual(started, [0, 1, 2]);
  gates[0]!();
  await until(4);
  gates[2]!();
  await until(5);
  gates[3]!();
  gates[4]!();
  const out = await settled;
  assert.deepEqual(
    out.map((r) => r.status),
    ["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"],
  );
  assert.equal(peak, 2);
  assert.deepEqual(limit.load, { running: 0, waiting: 0 });
  assert.throws(() => new ConcurrencyLimit(0), RangeError);
});

test("ConcurrencyLimit.acquire holds a slot until given back; giving it back twice frees one slot only", async () => {
  const limit = new ConcurrencyLimit(1);
  const first = await limit.acquire();
  let secondHeld = false;
  const second = limit.acquire().then((release) => {
    secondHeld = true;
    return release;
  });
  const third = limit.acquire();
  await new Promise((r) => setImmediate(r));
  assert.equal(secondHeld, false);
  assert.deepEqual(limit.load, { running: 1, waiting: 2 });
  first();
  first(); // no effect: the third must keep waiting
  const releaseSecond = await second;
  assert.deepEqual(limit.load, { running: 1, waiting: 1 });
  releaseSecond();
  (await third)();
  assert.deepEqual(limit.load, { running: 0, waiting: 0 });
});
