/** The `forestall` operator CLI. `run` is side-effect free apart from `io`, so tests call it in-process. */
import { Command, CommanderError } from 'commander';
import { version } from '../package.json';
import { awsErrorLine, type OperatorAws, OperatorSession } from './aws';
import { ExitStatus, registerDrillCommand } from './drill';
import { type Output, UsageError } from './io';
import { registerOperatorCommands } from './operate';
import { EXIT_INFEASIBLE, runPlan } from './plan';
import { runSimulate } from './simulate';

/**
 * `aws`: the clients the operator commands (approve, halt, status, release) use; by default built from the
 * SDK's default chain when one of them runs, and closed when it ends.
 */
export async function run(
  argv: readonly string[],
  io: Output,
  clock: () => number = Date.now,
  aws?: OperatorAws,
): Promise<number> {
  const session = new OperatorSession(aws);
  // A command that ends without an error but wants another exit code than 0 (plan: infeasible notices).
  let exitCode = 0;
  const program = new Command('forestall')
    .description('Get ahead of Amazon EC2 scheduled maintenance.')
    .version(version, '-V, --version', 'print the version')
    .addHelpText(
      'after',
      `\nExit codes: 0 done; 1 an AWS call failed, or an internal error; 2 bad files, flags or a refused command;\n${EXIT_INFEASIBLE} (plan) some notices are infeasible, (drill) some instances cannot make it.`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('plan')
    .description(
      'Plan remedies for the events in AWS CLI output (describe-instances + describe-instance-status --include-all-instances).',
    )
    .requiredOption('--instances <file>', 'JSON printed by `aws ec2 describe-instances`')
    .requiredOption(
      '--statuses <file>',
      'JSON printed by `aws ec2 describe-instance-status --include-all-instances`',
    )
    .option('--config <file>', 'forestall.config.json (defaults apply when omitted)')
    .option(
      '--instance-types <file>',
      'JSON printed by `aws ec2 describe-instance-types`, to know instance-store volumes',
    )
    .option(
      '--region <region>',
      "Region the files came from (default: the Region of the instances' zones, else the first of config.regions)",
    )
    .option(
      '--now <iso>',
      'plan as if it were this time, ISO-8601 with Z or an offset such as +01:00 (default: the current time)',
    )
    .option('--json', 'print the plan as JSON')
    .addHelpText(
      'after',
      `\nExit codes: 0 planned (or nothing to plan); 1 internal error; 2 bad files or flags; ${EXIT_INFEASIBLE} some notices are\ninfeasible (they cannot be remedied before their deadline; the plan is printed all the same).`,
    )
    .action((opts) => {
      exitCode = runPlan(opts, io, clock);
    });

  program
    .command('simulate')
    .description('Run the real planner and rollout against a simulated fleet (no AWS account needed).')
    .requiredOption('--scenario <file>', 'scenario JSON (see examples/demo/scenario.json)')
    .option('--config <file>', 'forestall.config.json (defaults apply when omitted)')
    .option('--seed <n>', 'random seed (default: the scenario seed)')
    .option('--json', 'print the outcome as JSON')
    .option('--progress', 'print the waves and progress while it runs')
    .option(
      '--timeline',
      'also print every outage (instance, from, to, cause, groups), to recompute the peaks',
    )
    .action(async (opts) => runSimulate(opts, io));

  registerDrillCommand(program, io, clock);
  registerOperatorCommands(program, io, clock, session);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof ExitStatus) return e.code;
    if (e instanceof CommanderError) {
      // commander already printed its message (help, unknown option, missing option).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      io.err(`forestall: ${e.message}`);
      return 2;
    }
    const aws = awsErrorLine(e);
    if (aws !== undefined) {
      io.err(`forestall: ${aws}`);
      return 1;
    }
    io.err(`forestall: internal error: ${(e as Error).message}`);
    return 1;
  } finally {
    session.close();
  }
}
