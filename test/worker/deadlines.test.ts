import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DeadlineQueue, type Deadline, type DeadlineList } from '../../runtime/worker/deadlines';

class Item implements Deadline {
  dlNext: Deadline | null = null;
  dlPrev: Deadline | null = null;
  dlAt = 0;
  dlList: DeadlineList | null = null;
  constructor(readonly name: string, readonly fired: string[]) {}
  onDeadline(): void {
    this.fired.push(this.name);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('expires in deadline order across durations; removed items never fire', async () => {
  const q = new DeadlineQueue();
  const fired: string[] = [];
  const now = performance.now();
  const a = new Item('a', fired);
  const b = new Item('b', fired);
  const c = new Item('c', fired);
  const d = new Item('d', fired);
  q.add(a, 80, now);
  q.add(b, 30, now);
  q.add(c, 80, now + 1);
  q.add(d, 30, now + 1);
  q.remove(d);
  await sleep(50);
  assert.deepEqual(fired, ['b']);
  await sleep(80);
  assert.deepEqual(fired, ['b', 'a', 'c']);
  assert.equal(d.dlList, null);
});

test('removing the head and the tail keeps the list consistent', async () => {
  const q = new DeadlineQueue();
  const fired: string[] = [];
  const now = performance.now();
  const items = ['x', 'y', 'z'].map((n) => new Item(n, fired));
  for (const it of items) q.add(it, 20, now);
  q.remove(items[0]!);
  q.remove(items[2]!);
  await sleep(50);
  assert.deepEqual(fired, ['y']);
});
