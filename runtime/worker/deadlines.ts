// Request timeouts without a timer per request. Streams with the same timeout
// duration expire in the order they started, so each duration keeps a FIFO
// (an intrusive list: the stream object is the node) and one Node timer is
// armed for the earliest head. Adding and removing are O(1) and allocate nothing.

export interface Deadline {
  dlNext: Deadline | null;
  dlPrev: Deadline | null;
  dlAt: number;
  dlList: DeadlineList | null;
  onDeadline(): void;
}

export class DeadlineList {
  head: Deadline | null = null;
  tail: Deadline | null = null;
}

export class DeadlineQueue {
  private readonly lists = new Map<number, DeadlineList>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private readonly fireB = (): void => this.fire();

  /** `d` expires `ms` after `now` (performance.now() time) unless removed first. */
  add(d: Deadline, ms: number, now: number): void {
    let list = this.lists.get(ms);
    if (list === undefined) this.lists.set(ms, (list = new DeadlineList()));
    d.dlAt = now + ms;
    d.dlList = list;
    d.dlNext = null;
    d.dlPrev = list.tail;
    if (list.tail !== null) list.tail.dlNext = d;
    else list.head = d;
    list.tail = d;
    if (d.dlAt < this.timerAt) this.arm(d.dlAt, now);
  }

  remove(d: Deadline): void {
    const list = d.dlList;
    if (list === null) return;
    if (d.dlPrev !== null) d.dlPrev.dlNext = d.dlNext;
    else list.head = d.dlNext;
    if (d.dlNext !== null) d.dlNext.dlPrev = d.dlPrev;
    else list.tail = d.dlPrev;
    d.dlNext = d.dlPrev = null;
    d.dlList = null;
    // The timer stays armed; when it fires early it simply re-arms for the new heads.
  }

  private arm(at: number, now: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.fireB, Math.max(1, Math.ceil(at - now)));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const list of this.lists.values()) {
      let d = list.head;
      // Timers may fire up to a millisecond early; treat that as expired.
      while (d !== null && d.dlAt <= now + 1) {
        this.remove(d);
        d.onDeadline();
        d = list.head;
      }
      if (d !== null && d.dlAt < next) next = d.dlAt;
    }
    if (next !== Infinity) this.arm(next, now);
  }
}
