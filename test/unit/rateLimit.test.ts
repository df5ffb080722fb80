import { describe, it, expect } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { forEachLimited, TokenBucket } from "../../src/controller/rateLimit.js";

describe("TokenBucket", () => {
  it("lets a burst through at once, then waits for the clock to refill", async () => {
    let now = 1_000_000;
    const bucket = new TokenBucket(100, 3, () => now);
    for (let i = 0; i < 3; i++) await bucket.take();
    let fourth = false;
    const pending = bucket.take().then(() => { fourth = true; });
    await sleep(40);
    expect(fourth).toBe(false);
    now += 10; // one token at 100 per second
    await pending;
    expect(fourth).toBe(true);
  });

  it("never holds more than the burst, however long it was idle", async () => {
    let now = 0;
    const bucket = new TokenBucket(100, 2, () => now);
    await bucket.take();
    await bucket.take();
    now += 3_600_000;
    await bucket.take();
    await bucket.take();
    let third = false;
    const pending = bucket.take().then(() => { third = true; });
    await sleep(40);
    expect(third).toBe(false);
    now += 10;
    await pending;
  });

  it("refills at qps: half a second at 10 qps gives five requests", async () => {
    let now = 0;
    const bucket = new TokenBucket(10, 10, () => now);
    for (let i = 0; i < 10; i++) await bucket.take();
    now += 500;
    let taken = 0;
    const takes = Array.from({ length: 6 }, () => bucket.take().then(() => { taken++; }));
    await sleep(30);
    expect(taken).toBe(5);
    now += 100;
    await Promise.all(takes);
    expect(taken).toBe(6);
  });
});

describe("forEachLimited", () => {
  it("runs every item once and never more than the limit at a time", async () => {
    const items = Array.from({ length: 25 }, (_, i) => i);
    const seen: number[] = [];
    let running = 0;
    let max = 0;
    await forEachLimited(items, 4, async (item) => {
      running++;
      max = Math.max(max, running);
      await sleep(item % 3);
      seen.push(item);
      running--;
    });
    expect(max).toBe(4);
    expect([...seen].sort((a, b) => a - b)).toEqual(items);
  });

  it("handles fewer items than the limit, and no items", async () => {
    const seen: string[] = [];
    await forEachLimited(["a", "b"], 10, (item) => { seen.push(item); return Promise.resolve(); });
    expect(seen.sort()).toEqual(["a", "b"]);
    await forEachLimited([], 3, () => Promise.reject(new Error("never called")));
  });

  it("rejects when a task fails", async () => {
    await expect(forEachLimited([1, 2, 3], 2, (n) => (n === 2 ? Promise.reject(new Error("two")) : Promise.resolve()))).rejects.toThrow("two");
  });
});
