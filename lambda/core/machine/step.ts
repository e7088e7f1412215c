/**
 * One advance of the machine: the state being changed, what the world answered, and the commands issued so
 * far. Stage functions read observations and issue commands through it; nothing here does I/O.
 */
import type { Config } from '../config';
import type { DetailType, ForestallEvent } from '../events';
import type { ActionOutcome, AutoScalingGroupState, TargetRegistration } from '../ports';
import { iso } from '../time';
import type { InstanceFacts, InstanceStatus, PlanBatch } from '../types';
import type { Command, Observation, RecordEntry } from './commands';
import type { BatchState, ItemState, RolloutState } from './state';

type Issued = Command extends infer C ? (C extends { id: string } ? Omit<C, 'id'> : never) : never;

export interface AwaitedCommand {
  readonly id: string;
  readonly kind: string;
}

export class Step {
  readonly commands: Command[] = [];
  /** Wake-up times asked for by the stages; the step ends with one wait-until at the earliest. */
  private readonly wakes: number[] = [];
  readonly statuses = new Map<string, InstanceStatus>();
  readonly facts = new Map<string, InstanceFacts>();
  readonly groups = new Map<string, AutoScalingGroupState>();
  readonly targets: TargetRegistration[] = [];
  /** Outcomes by the kind of command that produced them, and by command id. */
  readonly outcomes = new Map<string, ActionOutcome[]>();
  readonly outcomesById = new Map<string, readonly ActionOutcome[]>();
  readonly batches: PlanBatch[] = [];
  readonly approvals: Array<{ token: string; decision: 'approved' | 'rejected' }> = [];
  /** Kinds of the commands the previous step issued (their observations are in this step). */
  readonly answered = new Set<string>();

  constructor(
    readonly s: RolloutState,
    readonly config: Config,
    readonly now: number,
    observations: readonly Observation[],
    awaited: readonly AwaitedCommand[],
  ) {
    const kindOf = new Map(awaited.map((a) => [a.id, a.kind]));
    for (const o of observations) this.absorb(o, kindOf);
  }

  private absorb(o: Observation, kindOf: ReadonlyMap<string, string>): void {
    if (o.kind === 'halt') {
      this.s.haltRequested ??= o.reason;
      return;
    }
    if (o.kind === 'approval') {
      this.approvals.push({ token: o.token, decision: o.decision });
      return;
    }
    const kind = kindOf.get(o.id);
    if (kind === undefined) return; // an answer to a command this state never issued: ignore it
    this.answered.add(kind);
    if (o.kind === 'statuses') for (const st of o.statuses) this.statuses.set(st.instanceId, st);
    else if (o.kind === 'facts') for (const f of o.facts) this.facts.set(f.instanceId, f);
    else if (o.kind === 'groups') for (const g of o.groups) this.groups.set(g.name, g);
    else if (o.kind === 'targets') this.targets.push(...o.targets);
    else if (o.kind === 'batch') this.batches.push(o.batch);
    else if (o.kind === 'outcomes') {
      this.outcomesById.set(o.id, o.outcomes);
      const list = this.outcomes.get(kind) ?? [];
      list.push(...o.outcomes);
      this.outcomes.set(kind, list);
    }
  }

  /** A stage is done with this step's observations: the next stage must not mistake them for its own. */
  consume(): void {
    this.answered.clear();
    this.statuses.clear();
    this.facts.clear();
    this.groups.clear();
    this.targets.length = 0;
    this.outcomes.clear();
  }

  issue(command: Issued): string {
    const id = `${this.s.rolloutId}/${this.s.commandSeq++}`;
    this.commands.push({ ...command, id } as Command);
    return id;
  }

  wakeAt(t: number): void {
    this.wakes.push(Math.max(t, this.now));
  }

  earliestWake(): number | undefined {
    return this.wakes.length === 0 ? undefined : Math.min(...this.wakes);
  }

  outcomesOf(kind: Command['kind']): ActionOutcome[] {
    return this.outcomes.get(kind) ?? [];
  }

  emit(detailType: DetailType, detail: Omit<ForestallEvent['detail'], 'rolloutId' | 'region'>): void {
    const event: ForestallEvent = {
      detailType,
      time: iso(this.now),
      detail: { rolloutId: this.s.rolloutId, region: this.s.region, ...detail },
    };
    this.issue({ kind: 'emit', event });
  }

  record(kind: string, fields: Omit<RecordEntry, 'rolloutId' | 'at' | 'kind'> = {}): void {
    this.issue({ kind: 'record', entry: { rolloutId: this.s.rolloutId, at: this.now, kind, ...fields } });
  }

  /** An item's event fields, as every instance event carries them. */
  itemDetail(item: ItemState, batchIndex: number): Omit<ForestallEvent['detail'], 'rolloutId' | 'region'> {
    return {
      batchIndex,
      instanceId: item.instanceId,
      eventId: item.eventIds.join(','),
      code: item.codes.join(','),
      remedy: item.remedy,
      deadline: iso(item.deadline),
    };
  }

  recordItem(item: ItemState, batchIndex: number, kind: string, detail: Record<string, unknown>): void {
    this.record(kind, { batchIndex, instanceId: item.instanceId, detail });
  }

  /** Marks an item failed, records it and reports it. */
  fail(item: ItemState, batchIndex: number, reason: string): void {
    item.phase = 'failed';
    item.reason = reason;
    this.recordItem(item, batchIndex, 'failed', { reason, remedy: item.remedy });
    this.emit('Instance Remedy Failed', { ...this.itemDetail(item, batchIndex), reason });
  }

  /** Drops an item (not acted on), records it and reports it. */
  drop(item: ItemState, batchIndex: number, reason: string): void {
    item.phase = 'dropped';
    item.reason = reason;
    this.recordItem(item, batchIndex, 'dropped', { reason });
    this.emit('Notice Skipped', { ...this.itemDetail(item, batchIndex), reason });
  }
}

/** The config wave a batch belongs to (undefined only if the config lost it since planning). */
export function waveOf(step: Step, b: BatchState): Config['waves'][number] | undefined {
  return step.config.waves.find((w) => w.name === b.wave);
}

export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
