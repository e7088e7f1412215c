/**
 * The LedgerPort contract, one suite for every implementation (STYLE.md: a store's in-memory and DynamoDB
 * twins pass the same tests): sim/memory.ts in the unit project, lambda/aws/rollout-ledger.ts against moto.
 */
import { parseConfig } from '../../lambda/core/config';
import { fromRecords, RECORD_LIMIT, toRecords } from '../../lambda/core/machine/storage';
import type { ActionOutcome, LedgerEntry, LedgerPort } from '../../lambda/core/ports';
import type { Plan } from '../../lambda/core/types';
import { bigPlan, bigSteps } from './big-rollout';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Records shaped like storage.ts's (a head, then chunks), with text that JSON and DynamoDB must keep as is. */
const recordsOf = (tag: string, chunks: number) => [
  JSON.stringify({ kind: 'head', tag, note: 'quotes " and \\ and é ✓' }),
  ...Array.from({ length: chunks }, (_, k) => JSON.stringify({ kind: 'items', index: k, data: [tag, k] })),
];

const entry = (rolloutId: string, kind: string, instanceId?: string): LedgerEntry => ({
  rolloutId,
  at: 1_000,
  kind,
  ...(instanceId ? { batchIndex: 0, instanceId, detail: { reason: `${kind} of ${instanceId}` } } : {}),
});

export function describeLedgerContract(name: string, makeLedger: () => Promise<LedgerPort>): void {
  describe(`LedgerPort contract: ${name}`, () => {
    let ledger: LedgerPort;
    beforeEach(async () => {
      ledger = await makeLedger();
    });

    it('stores a step only over the step it expects: a stale writer is refused and changes nothing', async () => {
      const [a, b, c] = [recordsOf('a', 2), recordsOf('b', 3), recordsOf('c', 1)];
      expect(await ledger.saveStep('r1', 0, a, 5)).toBe(false);
      expect(await ledger.loadStep('r1')).toBeUndefined();
      expect(await ledger.saveStep('r1', 0, a, undefined)).toBe(true);
      // A second first writer, a writer from a step never stored, and a replay of step 0's save.
      expect(await ledger.saveStep('r1', 0, b, undefined)).toBe(false);
      expect(await ledger.saveStep('r1', 1, b, 7)).toBe(false);
      expect(await ledger.loadStep('r1')).toEqual(a);
      expect(await ledger.saveStep('r1', 1, b, 0)).toBe(true);
      expect(await ledger.saveStep('r1', 1, c, 0)).toBe(false);
      expect(await ledger.saveStep('r1', 1, b, 0)).toBe(false);
      expect(await ledger.loadStep('r1')).toEqual(b);
      // Two writers from one step at once: exactly one wins, and the stored step is the winner's, whole.
      const results = await Promise.all([ledger.saveStep('r1', 2, a, 1), ledger.saveStep('r1', 2, c, 1)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await ledger.loadStep('r1')).toEqual(results[0] ? a : c);
      // Other rollouts are independent.
      expect(await ledger.loadStep('r2')).toBeUndefined();
      expect(await ledger.saveStep('r2', 0, c, undefined)).toBe(true);
      expect(await ledger.loadStep('r1')).toEqual(results[0] ? a : c);
    });

    it('loads exactly the records last saved, in order, however many a step has', async () => {
      const many = recordsOf('many', 40);
      expect(await ledger.saveStep('r1', 0, many, undefined)).toBe(true);
      expect(await ledger.loadStep('r1')).toEqual(many);
      // A smaller step after a larger one: nothing of the larger one is left in it.
      expect(await ledger.saveStep('r1', 1, ['{"kind":"head"}'], 0)).toBe(true);
      expect(await ledger.loadStep('r1')).toEqual(['{"kind":"head"}']);
      const again = recordsOf('again', 12);
      expect(await ledger.saveStep('r1', 2, again, 1)).toBe(true);
      expect(await ledger.loadStep('r1')).toEqual(again);
    });

    it('round-trips the steps of a 5,000-item batch through the ledger and fromRecords', async () => {
      const steps = bigSteps(5000, parseConfig({ dryRun: false }));
      let expected: number | undefined;
      for (const step of steps) {
        const records = toRecords(step);
        expect(records.length).toBeGreaterThan(1);
        expect(Math.max(...records.map(bytes))).toBeLessThanOrEqual(RECORD_LIMIT);
        expect(await ledger.saveStep(step.state.rolloutId, step.state.step, records, expected)).toBe(true);
        const loaded = await ledger.loadStep(step.state.rolloutId);
        expect(loaded).toEqual(records);
        const back = fromRecords(loaded ?? []);
        expect(back.state).toEqual(step.state);
        expect(back.commands).toEqual(step.commands);
        expected = step.state.step;
      }
    }, 120_000);

    it('gives a claim to its first writer only, and says whether a key is claimed', async () => {
      expect(await ledger.claimed('call#r1/1')).toBe(false);
      expect(await ledger.claim('call#r1/1', 1_000)).toBe(true);
      expect(await ledger.claim('call#r1/1', 2_000)).toBe(false);
      expect(await ledger.claimed('call#r1/1')).toBe(true);
      expect(await ledger.claimed('call#r1/2')).toBe(false);
      const racers = await Promise.all(Array.from({ length: 5 }, (_, k) => ledger.claim('emit#r1/3', k)));
      expect(racers.filter(Boolean)).toHaveLength(1);
    });

    it('returns the outcome recorded under a claim', async () => {
      const outcomes: ActionOutcome[] = [
        { instanceId: 'i-1', ok: true },
        { instanceId: 'i-2', ok: false, error: 'IncorrectInstanceState: stopping', retryable: false },
        { instanceId: 'i-3', ok: false, ambiguous: true, error: 'timeout' },
      ];
      expect(await ledger.claim('call#r1/7', 1_000)).toBe(true);
      expect(await ledger.getOutcome('call#r1/7')).toBeUndefined();
      await ledger.putOutcome('call#r1/7', outcomes);
      expect(await ledger.getOutcome('call#r1/7')).toEqual(outcomes);
      expect(await ledger.claimed('call#r1/7')).toBe(true);
      expect(await ledger.getOutcome('call#r1/8')).toBeUndefined();
    });

    it('records a history line once per id, keeps the first, and lists lines in the order recorded', async () => {
      // Ids whose sort order is not the recording order (r1/10 sorts before r1/9).
      await ledger.record('r1/9', entry('r1', 'dropped', 'i-9'));
      await ledger.record('r1/10', entry('r1', 'verified', 'i-10'));
      await ledger.record('r1/9', entry('r1', 'dropped', 'i-9'));
      await ledger.record('r1/10', entry('r1', 'failed', 'i-10'));
      await ledger.record('r1/2', entry('r1', 'halted'));
      expect(await ledger.history('r1')).toEqual([
        entry('r1', 'dropped', 'i-9'),
        entry('r1', 'verified', 'i-10'),
        entry('r1', 'halted'),
      ]);
    });

    it('keeps each rollout’s history apart', async () => {
      await ledger.record('r1/1', entry('r1', 'verified', 'i-1'));
      await ledger.record('r2/1', entry('r2', 'failed', 'i-1'));
      await ledger.record('r1/2', entry('r1', 'verified', 'i-2'));
      expect((await ledger.history('r1')).map((e) => e.instanceId)).toEqual(['i-1', 'i-2']);
      expect(await ledger.history('r2')).toEqual([entry('r2', 'failed', 'i-1')]);
      expect(await ledger.history('r3')).toEqual([]);
    });

    it('holds an operator’s halt for its rollout only', async () => {
      expect(await ledger.haltRequested('r1')).toBeUndefined();
      await ledger.requestHalt('r1', 'operator: bad canary');
      expect(await ledger.haltRequested('r1')).toBe('operator: bad canary');
      expect(await ledger.haltRequested('r2')).toBeUndefined();
    });

    it('returns each batch of a plan whole, a 10,000-item batch included', async () => {
      const big = bigPlan(10_000, 'r1');
      const [large] = big.batches;
      if (!large) throw new Error('no batch');
      const plan: Plan = {
        ...big,
        batches: [
          { ...large, limitedBy: 'api' },
          { index: 1, wave: 'tail', startAt: large.endBy, endBy: large.endBy, items: [] },
          { ...large, index: 2, wave: 'last', items: large.items.slice(0, 3) },
        ],
      };
      expect(bytes(JSON.stringify(large))).toBeGreaterThan(400 * 1024);
      await ledger.putPlan(plan);
      for (const [k, batch] of plan.batches.entries())
        expect(await ledger.getPlanBatch('r1', k)).toEqual(batch);
      expect(await ledger.getPlanBatch('r1', 3)).toBeUndefined();
      expect(await ledger.getPlanBatch('r2', 0)).toBeUndefined();
    }, 60_000);
  });
}
