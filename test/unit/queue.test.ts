import { describe, it, expect } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { WorkQueue } from "../../src/controller/queue.js";

/** A promise the test resolves when it wants. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(2);
  }
}

describe("WorkQueue", () => {
  it("runs each key added, and dedupes a key that is already waiting", async () => {
    const runs: string[] = [];
    const first = gate();
    const queue = new WorkQueue(async (key) => {
      runs.push(key);
      if (key === "a") await first.promise;
    }, { workers: 1 });
    queue.add("a");
    queue.add("b");
    queue.add("b");
    queue.add("c");
    queue.add("b");
    expect(queue.length).toBe(3);
    first.open();
    await queue.idle();
    expect(runs).toEqual(["a", "b", "c"]);
    expect(queue.length).toBe(0);
  });

  it("never runs one key twice at once; a key added while it runs runs once more afterwards", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gates = [gate(), gate()];
    const queue = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const g = gates[runs++];
      await g?.promise;
      running--;
    }, { workers: 4 });
    queue.add("k");
    await until(() => runs === 1);
    queue.add("k");
    queue.add("k");
    queue.add("k");
    await sleep(10);
    expect(runs).toBe(1);
    gates[0]?.open();
    await until(() => runs === 2);
    gates[1]?.open();
    await queue.idle();
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it("runs different keys in parallel, up to the number of workers", async () => {
    let running = 0;
    let maxRunning = 0;
    const queue = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(15);
      running--;
    }, { workers: 3 });
    for (const key of ["a", "b", "c", "d", "e", "f", "g"]) queue.add(key);
    await queue.idle();
    expect(maxRunning).toBe(3);
  });

  it("retries a failing key with exponential backoff, then forgets the failures after a success", async () => {
    const attempts: number[] = [];
    const retries: number[] = [];
    let fail = 3;
    const queue = new WorkQueue(() => {
      attempts.push(Date.now());
      if (fail-- > 0) return Promise.reject(new Error("API down"));
      return Promise.resolve();
    }, { workers: 1, baseDelayMs: 20, maxDelayMs: 1000, onError: (key, err, retryInMs) => {
      expect(key).toBe("x");
      expect(err).toBeInstanceOf(Error);
      retries.push(retryInMs);
    } });
    queue.add("x");
    await until(() => attempts.length === 4);
    expect(retries).toEqual([20, 40, 80]);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);

    fail = 1;
    queue.add("x");
    await until(() => attempts.length === 6);
    expect(retries).toEqual([20, 40, 80, 20]);
  });

  it("caps the backoff at maxDelayMs", async () => {
    const retries: number[] = [];
    const queue = new WorkQueue(() => Promise.reject(new Error("no")), {
      workers: 1, baseDelayMs: 5, maxDelayMs: 12, onError: (_k, _e, ms) => { retries.push(ms); },
    });
    queue.add("x");
    await until(() => retries.length >= 4);
    queue.stop();
    expect(retries.slice(0, 4)).toEqual([5, 10, 12, 12]);
  });

  it("idle() resolves at once when empty, and only after the work is done otherwise", async () => {
    const queue = new WorkQueue(async () => { await sleep(20); }, { workers: 2 });
    await queue.idle();
    let idle = false;
    queue.add("a");
    queue.add("b");
    const waiting = queue.idle().then(() => { idle = true; });
    await sleep(5);
    expect(idle).toBe(false);
    await waiting;
    expect(queue.length).toBe(0);
  });

  it("after stop() nothing new runs and no retry fires", async () => {
    let runs = 0;
    const queue = new WorkQueue(() => { runs++; return Promise.reject(new Error("no")); }, { workers: 1, baseDelayMs: 10 });
    queue.add("a");
    await until(() => runs === 1);
    queue.stop();
    queue.add("b");
    await sleep(40);
    expect(runs).toBe(1);
  });
});
