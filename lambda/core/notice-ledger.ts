/**
 * What the ledger keeps about each notice (one EC2 scheduled event of one instance in one Region), and the
 * port the DynamoDB adapter (lambda/aws/notice-ledger.ts) implements. Every write is conditional on the
 * record's version, so two overlapping polls (or a poll and a Health-triggered look) never both report the
 * same change: the loser's write fails and it reports nothing.
 */
import type { Notice } from './types';

/** A notice's window as it was before a change (AWS moved it, or Forestall rescheduled it). */
export interface WindowChange {
  readonly at: number;
  readonly notBefore: number;
  readonly notAfter?: number;
  readonly notBeforeDeadline?: number;
}

export type ClearReason = 'completed' | 'canceled' | 'gone';

/** An event to put on the bus that the ledger has recorded but not yet seen sent (the record's outbox). */
export interface PendingReport {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface NoticeRecord {
  readonly region: string;
  readonly instanceId: string;
  readonly eventId: string;
  readonly code: string;
  readonly description: string;
  readonly notBefore: number;
  readonly notAfter?: number;
  readonly notBeforeDeadline?: number;
  /** Who saw it first: the scheduled poll or an AWS Health event. */
  readonly source: Notice['source'];
  readonly state: 'open' | 'cleared';
  readonly cleared?: ClearReason;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Earlier windows, oldest first. */
  readonly history: readonly WindowChange[];
  /** Starts at 1; each write increments it and is conditional on the previous value. */
  readonly version: number;
  /** Events this record's changes owe the bus, oldest first; dropped once sent (`reported`). */
  readonly pending?: readonly PendingReport[];
}

export interface NoticeLedgerPort {
  /** The Region's notices (open and recently cleared), or only those of these instances. */
  notices(region: string, instanceIds?: readonly string[]): Promise<NoticeRecord[]>;
  /** Writes a record if none exists with its key (version 1); false when one does. */
  create(record: NoticeRecord): Promise<boolean>;
  /** Writes `record` (version n+1) if the stored one still has version n; false otherwise. */
  replace(record: NoticeRecord): Promise<boolean>;
  /** Drops the pending reports once sent, if the record is still at `version`. */
  reported(record: NoticeRecord): Promise<boolean>;
  /** Takes the Region's lock for `ttlMs` unless another owner holds an unexpired one. */
  acquireLock(region: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  releaseLock(region: string, owner: string): Promise<void>;
}
