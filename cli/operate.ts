/**
 * The operator commands against a deployed Forestall: approve, halt, status, release. The ledger table is
 * the source of truth; Step Functions is only woken by what is recorded there, so a command that could not
 * wake an execution still takes effect at the rollout's next step.
 */
import type { Command } from 'commander';
import { ApprovalError, type ApprovalRecord, LedgerApprovals, wakeExecution } from '../lambda/aws/approvals';
import { DynamoRegionRollouts } from '../lambda/aws/region-rollouts';
import { DynamoRolloutLedger } from '../lambda/aws/rollout-ledger';
import type { RolloutState } from '../lambda/core/machine/state';
import { type OperatorSession, STACK_NAME, TABLE_OUTPUT } from './aws';
import { type Output, parseIntFlag, UsageError } from './io';
import { runStatus, storedState } from './status';

const TABLE_HELP = `the ledger table (default: $FORESTALL_TABLE, else the output ${TABLE_OUTPUT} of the CloudFormation stack ${STACK_NAME} in the SDK's default Region)`;

export function registerOperatorCommands(
  program: Command,
  io: Output,
  clock: () => number,
  session: OperatorSession,
): void {
  program
    .command('approve')
    .description(
      'Record the decision on a batch waiting for approval (in the ledger, as the caller) and wake the rollout.',
    )
    .argument('<rollout>', 'the rollout id (fs-...), as `forestall status` shows it')
    .option('--batch <n>', "the batch to decide (default: the rollout's one pending approval)")
    .option('--reject', 'reject the batch: the rollout halts before it touches any of its instances')
    .option('--table <name>', TABLE_HELP)
    .action((rollout: string, opts: ApproveOptions) => runApprove(rollout, opts, io, session));

  program
    .command('halt')
    .description(
      'Halt a rollout: it takes effect at its next step, puts the current batch back in service and starts no other.',
    )
    .argument('<rollout>', 'the rollout id (fs-...), as `forestall status` shows it')
    .requiredOption('--reason <text>', 'why: kept in the ledger and reported in the Rollout Halted event')
    .option('--table <name>', TABLE_HELP)
    .action((rollout: string, opts: HaltOptions) => runHalt(rollout, opts, io, session));

  program
    .command('status')
    .description("Each Region's open notices by deadline, and its rollout as last stored.")
    .option(
      '--region <region>',
      "only this Region (default: the config's regions with --config, else every Region the ledger knows)",
    )
    .option('--config <file>', 'forestall.config.json, for its list of Regions')
    .option('--table <name>', TABLE_HELP)
    .option('--json', 'print one JSON document')
    .action((opts) => runStatus(opts, io, clock, session));

  program
    .command('release')
    .description(
      'Give a Region held by a halted rollout back, so that the next poll can start a new rollout there.',
    )
    .argument('<region>', 'the Region, e.g. us-east-1')
    .requiredOption(
      '--rollout <id>',
      'the halted rollout holding the Region (a guard against releasing another)',
    )
    .option('--table <name>', TABLE_HELP)
    .action((region: string, opts: ReleaseOptions) => runRelease(region, opts, io, session));
}

interface ApproveOptions {
  batch?: string;
  reject?: boolean;
  table?: string;
}

interface HaltOptions {
  reason: string;
  table?: string;
}

interface ReleaseOptions {
  rollout: string;
  table?: string;
}

async function runningRollout(ledger: DynamoRolloutLedger, rolloutId: string, table: string) {
  const state = await storedState(ledger, rolloutId);
  if (!state) throw new UsageError(`no rollout ${rolloutId} in table ${table}`);
  return state;
}

const ended = (s: RolloutState) =>
  `rollout ${s.rolloutId} already ${s.status}${s.haltReason === undefined ? '' : ` (${s.haltReason})`}`;

async function runApprove(rolloutId: string, opts: ApproveOptions, io: Output, session: OperatorSession) {
  const batch = opts.batch === undefined ? undefined : parseIntFlag(opts.batch, '--batch', 0);
  const table = await session.table(opts.table);
  const { doc, sfn } = session.aws;
  const ledger = new DynamoRolloutLedger(doc, table);
  const state = await runningRollout(ledger, rolloutId, table);
  if (state.status !== 'running') throw new UsageError(`${ended(state)}: there is nothing to decide`);
  const halt = await ledger.haltRequested(rolloutId);
  if (halt !== undefined)
    throw new UsageError(
      `rollout ${rolloutId} halts at its next step (halt requested: ${halt}): there is nothing to decide`,
    );
  const decision = opts.reject ? 'rejected' : 'approved';
  let decided: ApprovalRecord;
  try {
    decided = await new LedgerApprovals(doc, table).decide(
      rolloutId,
      batch,
      decision,
      await session.caller(),
    );
  } catch (e) {
    if (e instanceof ApprovalError) throw new UsageError(e.message);
    throw e;
  }
  const woke =
    decided.taskToken === undefined
      ? 'its execution was not waiting yet and reads the decision when it starts to'
      : (await wakeExecution(sfn, decided.taskToken, { decision, batch: decided.batch })) === 'woken'
        ? 'the waiting execution was woken'
        : 'no execution was waiting on it; the rollout reads the decision at its next step';
  const next =
    decision === 'approved'
      ? 'the batch goes on: preflight if EC2 may have changed, then drain and remedy'
      : `the rollout halts without touching the batch's instances (AWS's own schedule applies to the events left); then free the Region: forestall release ${state.region} --rollout ${rolloutId}`;
  io.out(
    `${decision === 'approved' ? 'Approved' : 'Rejected'} batch ${decided.batch} (${decided.wave}) of rollout ${rolloutId} as ${decided.decidedBy}: ${woke}; ${next}.`,
  );
}

async function runHalt(rolloutId: string, opts: HaltOptions, io: Output, session: OperatorSession) {
  if (opts.reason.trim() === '') throw new UsageError('--reason must say why');
  const table = await session.table(opts.table);
  const { doc, sfn } = session.aws;
  const ledger = new DynamoRolloutLedger(doc, table);
  const state = await runningRollout(ledger, rolloutId, table);
  if (state.status !== 'running') {
    io.out(`${ended(state)}: nothing to halt.`);
    return;
  }
  await ledger.requestHalt(rolloutId, opts.reason);
  const woken: number[] = [];
  for (const a of await new LedgerApprovals(doc, table).pending(rolloutId)) {
    if (a.taskToken !== undefined && (await wakeExecution(sfn, a.taskToken, { halt: true })) === 'woken')
      woken.push(a.batch);
  }
  const b = state.current;
  const now = b
    ? `the instances of batch ${b.index} (${b.wave}, at ${b.stage}) are put back in service and no later batch starts`
    : `batch ${state.batch} and later ones do not start`;
  const wake =
    woken.length > 0 ? ` Woke the execution waiting for approval of batch ${woken.join(', ')}.` : '';
  io.out(
    `Halt requested for rollout ${rolloutId} ("${opts.reason}"): it takes effect at the rollout's next step (before the next batch at the latest); ${now}. AWS's own schedule applies to the events left; the Region stays held until: forestall release ${state.region} --rollout ${rolloutId}.${wake}`,
  );
}

async function runRelease(region: string, opts: ReleaseOptions, io: Output, session: OperatorSession) {
  const table = await session.table(opts.table);
  const { doc } = session.aws;
  const regions = new DynamoRegionRollouts(doc, table);
  const held = await regions.current(region);
  if (!held) throw new UsageError(`no rollout holds ${region}: there is nothing to release`);
  if (held.rolloutId !== opts.rollout)
    throw new UsageError(`${region} is held by rollout ${held.rolloutId}, not ${opts.rollout}`);
  const state = await storedState(new DynamoRolloutLedger(doc, table), held.rolloutId);
  // The Region record says halted once the rollout's last step finished; a record still marked running is
  // released only when the stored state shows the machine ended (an execution that stopped before saying so).
  if (held.status === 'running' && state?.status !== 'halted' && state?.status !== 'completed')
    throw new UsageError(
      `rollout ${held.rolloutId} is still running in ${region}${state?.current ? ` (batch ${state.current.index}, ${state.current.stage})` : ''}: halt it first (forestall halt ${held.rolloutId} --reason ...), then release it once it has halted`,
    );
  if (!(await regions.release(region, held.rolloutId)))
    throw new UsageError(
      `${region} changed while releasing it; run forestall status --region ${region} and try again`,
    );
  const why = held.reason ?? state?.haltReason;
  io.out(
    `Released ${region} from rollout ${held.rolloutId}${why ? ` (halted: ${why})` : ''}: the next poll starts a new rollout there if open notices call for one.`,
  );
}
