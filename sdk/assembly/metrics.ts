// Metrics: counters, gauges and histograms defined in the host's stats.
//
// A metric is defined with `proxy_define_metric` on first use, not in the
// constructor, so metrics can be module-level constants (top-level code runs
// in `_initialize`, before the host has any context to define them in).

import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "./imports";
import { MetricType, Status, statusName } from "./enums";
import { RET_SIZE, RET_U64 } from "./internal";
import { log } from "./log";

/** Base of the three metric kinds. */
export class Metric {
  /** The host's id (valid once defined; 0 is a valid id in Envoy). */
  protected id: u32 = 0;
  /** 0 = not defined yet, 1 = defined, 2 = definition failed (operations are no-ops). */
  private state: u8 = 0;

  constructor(readonly type: MetricType, readonly name: string) {}

  /**
   * Defines the metric with the host if not done yet. Returns false when the
   * host refused it (logged once); the metric's operations then do nothing.
   */
  define(): bool {
    if (this.state == 0) {
      const n = String.UTF8.encode(this.name);
      store<u32>(RET_SIZE, 0);
      const st = proxy_define_metric(this.type, changetype<usize>(n), n.byteLength, RET_SIZE);
      if (st == Status.Ok) {
        this.id = load<u32>(RET_SIZE);
        this.state = 1;
      } else {
        this.state = 2;
        log.error("metric \"" + this.name + "\" could not be defined: " + statusName(<Status>st));
      }
    }
    return this.state == 1;
  }

  /** The current value (0 when unavailable). */
  get value(): u64 {
    if (!this.define()) return 0;
    store<u64>(RET_U64, 0);
    if (proxy_get_metric(this.id, RET_U64) != Status.Ok) return 0;
    return load<u64>(RET_U64);
  }
}

/** A monotonically increasing count. */
export class Counter extends Metric {
  constructor(name: string) {
    super(MetricType.Counter, name);
  }

  /** Adds `delta` (default 1). */
  increment(delta: u64 = 1): void {
    if (this.define()) proxy_increment_metric(this.id, <i64>delta);
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric {
  constructor(name: string) {
    super(MetricType.Gauge, name);
  }

  /** Sets the gauge. */
  set(value: i64): void {
    if (this.define()) proxy_record_metric(this.id, <u64>value);
  }

  /** Adds `delta` (may be negative). */
  add(delta: i64): void {
    if (this.define()) proxy_increment_metric(this.id, delta);
  }
}

/** A distribution of recorded values (e.g. latencies in ms). */
export class Histogram extends Metric {
  constructor(name: string) {
    super(MetricType.Histogram, name);
  }

  /** Records one value. */
  record(value: u64): void {
    if (this.define()) proxy_record_metric(this.id, value);
  }
}
