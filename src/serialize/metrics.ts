// Timing and counters for serializations. Libraries do not log: a slow
// serialization becomes a `slowSerialization` event that the queue
// forwards and its worker turns into a warning.

import { EventEmitter } from 'node:events';

export interface SlowSerializationEvent {
  /** Function name as the producer saw it ('' for anonymous). */
  fnName: string;
  /** Format actually written ('v8', 'source', ...). */
  format: string;
  /** Wall time of serialize(), in milliseconds. */
  ms: number;
  /** Payload size in bytes. */
  bytes: number;
  /** The threshold that was exceeded (options.slowSerializationMs). */
  thresholdMs: number;
}

/** Emitted by `auto` when it writes a different format than its first. */
export interface FallbackEvent {
  fnName: string;
  from: string;
  to: string;
  reason: string;
}

export interface SerializerEvents {
  slowSerialization: [SlowSerializationEvent];
  fallback: [FallbackEvent];
}

/** Per-format totals since the serializer was created. */
export interface FormatCounters {
  count: number;
  bytes: number;
  totalMs: number;
}

export type SerializerStats = Record<string, FormatCounters>;

export class SerializerMetrics {
  readonly events = new EventEmitter<SerializerEvents>();
  private readonly counters = new Map<string, FormatCounters>();

  constructor(private readonly slowMs: number) {}

  record(format: string, fnName: string, ms: number, bytes: number): void {
    let c = this.counters.get(format);
    if (!c) {
      c = { count: 0, bytes: 0, totalMs: 0 };
      this.counters.set(format, c);
    }
    c.count += 1;
    c.bytes += bytes;
    c.totalMs += ms;
    if (ms > this.slowMs) {
      this.events.emit('slowSerialization', {
        fnName,
        format,
        ms,
        bytes,
        thresholdMs: this.slowMs,
      });
    }
  }

  snapshot(): SerializerStats {
    const out: SerializerStats = {};
    for (const [format, c] of this.counters) out[format] = { ...c };
    return out;
  }
}
