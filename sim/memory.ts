/** In-memory ledger, reporter and approvals: the simulator's twins of DynamoDB, EventBridge and the operator. */
import { assertCatalogued } from '../lambda/core/catalog';
import type { ForestallEvent } from '../lambda/core/events';
import type {
  ActionOutcome,
  ApprovalPort,
  ApprovalRequest,
  LedgerEntry,
  LedgerPort,
  ReporterPort,
} from '../lambda/core/ports';
import type { Plan, PlanBatch } from '../lambda/core/types';

export class MemoryLedger implements LedgerPort {
  readonly plans = new Map<string, Plan>();
  readonly claims = new Set<string>();
  private readonly steps = new Map<string, { step: number; records: readonly string[] }>();
  private readonly outcomes = new Map<string, readonly ActionOutcome[]>();
  private readonly lines = new Map<string, LedgerEntry>();
  private readonly halts = new Map<string, string>();
  /** Largest stored record so far, in bytes (the DynamoDB item-size bound is checked against it). */
  largestRecord = 0;

  get entries(): LedgerEntry[] {
    return [...this.lines.values()];
  }

  async putPlan(plan: Plan): Promise<void> {
    this.plans.set(plan.rolloutId, plan);
  }

  async getPlanBatch(rolloutId: string, index: number): Promise<PlanBatch | undefined> {
    return this.plans.get(rolloutId)?.batches[index];
  }

  async saveStep(
    rolloutId: string,
    step: number,
    records: readonly string[],
    expected: number | undefined,
  ): Promise<boolean> {
    if (this.steps.get(rolloutId)?.step !== expected) return false;
    for (const r of records) this.largestRecord = Math.max(this.largestRecord, Buffer.byteLength(r, 'utf8'));
    this.steps.set(rolloutId, { step, records: [...records] });
    return true;
  }

  async loadStep(rolloutId: string): Promise<readonly string[] | undefined> {
    return this.steps.get(rolloutId)?.records;
  }

  async claim(key: string): Promise<boolean> {
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }

  async claimed(key: string): Promise<boolean> {
    return this.claims.has(key);
  }

  async putOutcome(key: string, outcomes: readonly ActionOutcome[]): Promise<void> {
    this.outcomes.set(key, outcomes);
  }

  async getOutcome(key: string): Promise<readonly ActionOutcome[] | undefined> {
    return this.outcomes.get(key);
  }

  /** Written once: a line already recorded under `id` is kept as it was (an audit line never changes). */
  async record(id: string, entry: LedgerEntry): Promise<void> {
    if (!this.lines.has(id)) this.lines.set(id, entry);
  }

  async history(rolloutId: string): Promise<readonly LedgerEntry[]> {
    return this.entries.filter((e) => e.rolloutId === rolloutId);
  }

  async requestHalt(rolloutId: string, reason: string): Promise<void> {
    this.halts.set(rolloutId, reason);
  }

  async haltRequested(rolloutId: string): Promise<string | undefined> {
    return this.halts.get(rolloutId);
  }
}

export class MemoryReporter implements ReporterPort {
  readonly events: ForestallEvent[] = [];
  readonly ids: string[] = [];

  /** Every event is checked against the catalog, so a test that emits an uncatalogued shape fails. */
  async emit(event: ForestallEvent, id: string): Promise<void> {
    assertCatalogued(event.detailType, event.detail);
    this.events.push(event);
    this.ids.push(id);
  }

  count(detailType: ForestallEvent['detailType']): number {
    return this.events.filter((e) => e.detailType === detailType).length;
  }
}

/** Approvals in a simulation: approve all (the default) or reject the listed batch indexes. */
export class ScriptedApprovals implements ApprovalPort {
  readonly asked: number[] = [];
  private readonly answers = new Map<string, 'approved' | 'rejected'>();

  constructor(private readonly reject: ReadonlySet<number> = new Set()) {}

  async request(req: ApprovalRequest): Promise<void> {
    this.asked.push(req.batch);
    this.answers.set(req.token, this.reject.has(req.batch) ? 'rejected' : 'approved');
  }

  async decision(token: string): Promise<'approved' | 'rejected' | undefined> {
    return this.answers.get(token);
  }
}
