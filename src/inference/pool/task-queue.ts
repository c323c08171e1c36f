// The wait queue of jobs with no idle worker yet. An interface (piscina task_queue/common.ts)
// with remove(), so a job aborted while waiting simply leaves the queue.

export interface TaskQueue<T> {
  readonly size: number;
  push(item: T): void;
  /** Puts an item at the head: a crashed job's retry goes before newer work. */
  unshift(item: T): void;
  shift(): T | undefined;
  /** False when the item was not queued (already started or removed). */
  remove(item: T): boolean;
  /** Empties the queue and returns what was in it, oldest first. */
  drain(): T[];
}

/** FIFO over an array: the queue is bounded (queueLimit), so O(n) remove is fine. */
export class FifoQueue<T> implements TaskQueue<T> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    this.items.unshift(item);
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  remove(item: T): boolean {
    const index = this.items.indexOf(item);
    if (index === -1) return false;
    this.items.splice(index, 1);
    return true;
  }

  drain(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}
