/**
 * Carry-over: an item preflight finds blocked only by a full group (earlier failures still out of service, or
 * the batch's own items) is not left to AWS at once. It joins the next batch of its wave, as far as that
 * batch's API caps allow, and after the planned batches it runs in carry-over batches, one wave at a time in
 * config order, while they make progress. Its deadline is checked again at every preflight like any item's.
 */
import { ApiBudget, batchApiCaps } from '../planner';
import type { ItemState } from './state';
import type { Step } from './step';

/** Sets `item` aside for a later batch of its wave. */
export function carryItem(step: Step, from: number, wave: string, item: ItemState, reason: string): void {
  const { s } = step;
  s.carried ??= [];
  s.carried.push({ wave, from, item });
  step.recordItem(item, from, 'carried', { reason });
}

/**
 * The items of a batch of `wave`: the carried ones of that wave first (they waited longest), as many as fit
 * the batch's API caps (planner.ts batchApiCaps) beside its planned items, then the planned items.
 */
export function withCarried(step: Step, wave: string, planned: ItemState[]): ItemState[] {
  const carried = step.s.carried ?? [];
  if (!carried.some((c) => c.wave === wave)) return planned;
  const budget = new ApiBudget(batchApiCaps(step.config.verification.timeout));
  for (const item of planned) if (item.remedy !== 'reschedule') budget.add(item.remedy);
  const joined: ItemState[] = [];
  const kept: typeof carried = [];
  for (const c of carried) {
    if (c.wave === wave && budget.fits(c.item.remedy)) {
      budget.add(c.item.remedy);
      joined.push(c.item);
    } else kept.push(c);
  }
  step.s.carried = kept;
  return [...joined, ...planned];
}

/** After the planned batches: loads a carry-over batch for the first wave that has carried items, if any. */
export function loadCarryOver(step: Step): boolean {
  const { s, config } = step;
  const carried = s.carried ?? [];
  const rank = (wave: string) => {
    const k = config.waves.findIndex((w) => w.name === wave);
    return k < 0 ? config.waves.length : k;
  };
  const first = carried.reduce<string | undefined>(
    (best, c) => (best === undefined || rank(c.wave) < rank(best) ? c.wave : best),
    undefined,
  );
  if (first === undefined) return false;
  const items = withCarried(step, first, []);
  if (items.length === 0) return false;
  s.current = {
    index: s.batch,
    wave: first,
    startAt: step.now,
    endBy: Math.min(...items.map((i) => i.deadline)) - config.deadlineMargin,
    stage: 'preflight',
    items,
  };
  step.record('carry-over-batch', { batchIndex: s.batch, detail: { wave: first, items: items.length } });
  return true;
}

/** A halted rollout acts on nothing more: the carried items are dropped, each with the halt's reason. */
export function dropCarried(step: Step, why: string): void {
  for (const c of step.s.carried ?? []) step.drop(c.item, c.from, `halted: ${why}`);
  step.s.carried = [];
}
