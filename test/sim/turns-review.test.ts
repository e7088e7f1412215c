/**
 * Review of the Step Functions driver (lambda/core/turn.ts) against the simulator, with the state machine's
 * moves played as lib/rollout.ts wires them: a Wait sleeps until `wakeAt`, an approval nobody answers ends
 * when its `.waitForTaskToken` task times out (APPROVAL_TIMEOUT + 600 s) and the Catch runs Step again.
 */
import type { Config } from '../../lambda/core/config';
import { APPROVAL_TIMEOUT } from '../../lambda/core/machine/batch';
import { fromRecords, toRecords } from '../../lambda/core/machine/storage';
import type { ApprovalPort, Ports } from '../../lambda/core/ports';
import { firstTurn, type TurnInput, type TurnOutput } from '../../lambda/core/sfn-moves';
import { beginRollout } from '../../lambda/core/stepper';
import { MIN_WAIT_MS, runTurn } from '../../lambda/core/turn';
import { config, planned, scenario } from './helpers';

const region = 'us-east-1';
/** lib/rollout.ts: the AwaitApproval task's timeout. */
const APPROVAL_TASK_TIMEOUT = APPROVAL_TIMEOUT + 600_000;

/** A turn's time budget: a few hundred machine steps (a turn that never ends is a bug, not a hang). */
const budget = () => {
  let steps = 0;
  return { hasTime: () => ++steps < 500 };
};

const approvalWave = (): Config =>
  config({
    waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', failureBudget: 0, approval: true }],
    maxUnavailablePerGroup: '100%',
  });

/** Nobody ever answers. */
const silent: ApprovalPort = { request: async () => {}, decision: async () => undefined };

async function rollout(cfg: Config) {
  const { world, ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), cfg);
  const p = { ...ports, approvals: silent };
  expect(await beginRollout(plan, cfg, p, { region, limits: new Map() })).toBe(true);
  return { world, ports: p, plan };
}

describe('the Step Functions driver: approval waits', () => {
  it('halts an approval nobody answers once the AwaitApproval task times out, as the local loop does', async () => {
    const cfg = approvalWave();
    const { world, ports, plan } = await rollout(cfg);
    let input: TurnInput = firstTurn(plan.rolloutId, region);
    let output: TurnOutput | undefined;
    let approvalWaits = 0;
    for (let turn = 0; turn < 20; turn++) {
      output = (await runTurn(ports, cfg, input, budget())).output;
      if (output.next === 'done') break;
      if (output.next === 'wait') await ports.clock.sleepUntil(Date.parse(output.wakeAt));
      if (output.next === 'approval') {
        approvalWaits++;
        // Nobody sends SendTaskSuccess: the task times out, the Catch (States.Timeout) runs Step again.
        await ports.clock.sleepUntil(world.now + APPROVAL_TASK_TIMEOUT);
      }
      input = output.next === 'handoff' ? output.nextInput : output;
    }
    expect(output?.next).toBe('done');
    expect(output).toMatchObject({ status: 'halted' });
    expect(approvalWaits).toBe(1);
    expect(world.apiCalls.RebootInstances).toBeUndefined();
  });

  it('acts on a halt requested during an approval wait at once, without waiting again', async () => {
    const cfg = approvalWave();
    const { world, ports, plan } = await rollout(cfg);
    // Step through the wait for the batch's slot until the execution waits for approval.
    let input: TurnInput = firstTurn(plan.rolloutId, region);
    for (let turn = 0; turn < 20; turn++) {
      const { output } = await runTurn(ports, cfg, input, budget());
      input = output;
      if (output.next !== 'wait') break;
      await ports.clock.sleepUntil(Date.parse(output.wakeAt));
    }
    expect(input).toMatchObject({ next: 'approval' });
    await ports.ledger.requestHalt(plan.rolloutId, 'review: stop');
    // forestall halt woke the approval wait: the next Step must end the rollout, not wait for approval again,
    // and not sleep out the approval's re-ask time inside the Lambda either.
    const haltedAt = world.now;
    const next = await runTurn(ports, cfg, input, budget());
    expect(world.now - haltedAt).toBeLessThan(MIN_WAIT_MS);
    expect(next.output).toMatchObject({ next: 'done', status: 'halted' });
    expect(next.ended?.reason).toMatch(/review: stop/);
  });

  it('never sleeps out a re-asked approval’s wake-up inside the Lambda when a halt woke the wait', async () => {
    const cfg = approvalWave();
    const { world, ports, plan } = await rollout(cfg);
    let input: TurnInput = firstTurn(plan.rolloutId, region);
    for (let turn = 0; turn < 20; turn++) {
      const { output } = await runTurn(ports, cfg, input, budget());
      input = output;
      if (output.next !== 'wait') break;
      await ports.clock.sleepUntil(Date.parse(output.wakeAt));
    }
    expect(input).toMatchObject({ next: 'approval' });
    // The stored step as a re-ask leaves it: the request, and a wake-up one poll interval ahead.
    const records = await ports.ledger.loadStep(plan.rolloutId);
    const { state, commands } = fromRecords(records ?? []);
    const reask = commands.map((c) => (c.kind === 'wait-until' ? { ...c, at: world.now + 10 * 60_000 } : c));
    await ports.ledger.saveStep(
      plan.rolloutId,
      state.step,
      toRecords({ state, commands: reask }),
      state.step,
    );
    await ports.ledger.requestHalt(plan.rolloutId, 'review: stop');
    const haltedAt = world.now;
    const next = await runTurn(ports, cfg, input, budget());
    expect(next.output).toMatchObject({ next: 'done', status: 'halted' });
    expect(world.now - haltedAt).toBeLessThan(MIN_WAIT_MS);
  });
});

/** Replaces the stored step's commands with one wait until `at` (the step a turn then executes). */
async function storeWait(ports: Ports, rolloutId: string, at: number): Promise<void> {
  const records = await ports.ledger.loadStep(rolloutId);
  if (!records) throw new Error('no stored step');
  const { state } = fromRecords(records);
  const commands = [{ kind: 'wait-until' as const, id: `${rolloutId}/review-wait`, at }];
  expect(await ports.ledger.saveStep(rolloutId, state.step, toRecords({ state, commands }), state.step)).toBe(
    true,
  );
}

describe('the Step Functions driver: which waits are Wait states', () => {
  const cfg = config({ maxUnavailablePerGroup: '100%' });

  it.each([
    ['exactly MIN_WAIT_MS', MIN_WAIT_MS],
    ['a drain wait (30 s)', 30_000],
  ])('waits in a Wait state for %s', async (_what, ms) => {
    const { world, ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), cfg);
    await beginRollout(plan, cfg, ports, { region, limits: new Map() });
    const at = world.now + ms;
    await storeWait(ports, plan.rolloutId, at);
    const { output, steps } = await runTurn(ports, cfg, firstTurn(plan.rolloutId, region), budget());
    expect(output).toMatchObject({ next: 'wait', wakeAt: new Date(at).toISOString() });
    expect(steps).toBe(0);
  });
});
