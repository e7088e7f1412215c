/**
 * Puts Forestall's events on its EventBridge bus (AWS-FACTS §7): at most 10 entries and under 256 KB a call;
 * a partly failed call is answered entry by entry, and only the entries that failed with a retryable code
 * (InternalFailure, ThrottlingException) are sent again, after a backoff, so no event is delivered twice.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';

export const SOURCE = 'forestall';
export const MAX_ENTRIES = 10;
/** PutEvents' limit for one entry and for one call (256 KB); AWS-FACTS §7 says to design for it. */
export const MAX_BYTES = 256 * 1024;
const RETRYABLE = new Set(['InternalFailure', 'ThrottlingException']);

export interface BusEvent {
  readonly detailType: string;
  readonly detail: object;
  /** ISO time; EventBridge's receipt time when absent. */
  readonly time?: string;
  readonly resources?: readonly string[];
}

export interface FailedEvent {
  readonly event: BusEvent;
  readonly error: string;
}

export interface ReporterOptions {
  readonly source?: string;
  /** Sends of one entry at most (the first included). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** An entry's size as EventBridge counts it (eb-putevent-size): Time 14 bytes, then the UTF-8 strings. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0)
  );
}

interface Pending {
  readonly event: BusEvent;
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
}

/** Cuts entries into PutEvents calls of ≤10 entries and < MAX_BYTES, in order. */
export function packCalls<T extends { readonly size: number }>(entries: readonly T[]): T[][] {
  const calls: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + e.size >= MAX_BYTES)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

export class EventBridgeReporter {
  private readonly source: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    options: ReporterOptions = {},
  ) {
    this.source = options.source ?? SOURCE;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** One event; throws when it could not be delivered (ReporterPort). */
  async emit(event: BusEvent): Promise<void> {
    const [failed] = await this.publish([event]);
    if (failed) throw new Error(`${event.detailType} not delivered: ${failed.error}`);
  }

  /** Sends every event; returns those that could not be delivered, with why. */
  async publish(events: readonly BusEvent[]): Promise<FailedEvent[]> {
    const failed: FailedEvent[] = [];
    let todo: Pending[] = [];
    for (const event of events) {
      const entry: PutEventsRequestEntry = {
        EventBusName: this.busName,
        Source: this.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        ...(event.time ? { Time: new Date(event.time) } : {}),
        ...(event.resources ? { Resources: [...event.resources] } : {}),
      };
      const size = entrySize(entry);
      if (size >= MAX_BYTES) failed.push({ event, error: `EntryTooLarge: ${size} bytes` });
      else todo.push({ event, entry, size });
    }
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
      const again: Pending[] = [];
      for (const call of packCalls(todo)) {
        const r = await this.client.send(new PutEventsCommand({ Entries: call.map((p) => p.entry) }));
        call.forEach((p, i) => {
          const code = r.Entries?.[i]?.ErrorCode;
          if (!code) return;
          if (RETRYABLE.has(code) && attempt < this.maxAttempts) again.push(p);
          else failed.push({ event: p.event, error: `${code}: ${r.Entries?.[i]?.ErrorMessage ?? ''}` });
        });
      }
      todo = again;
    }
    return failed;
  }
}
