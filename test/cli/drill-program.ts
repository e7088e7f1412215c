/**
 * Test-only wiring of `forestall drill`, built the way cli/main.ts builds its program (exitOverride, output
 * through `io`, the same error mapping), plus ExitStatus for the drill's exit code 3. Until cli/main.ts
 * registers the command, the tests and `npx tsx test/cli/drill-program.ts drill ...` run it through this.
 */
import { Command, CommanderError } from 'commander';
import { ExitStatus, registerDrillCommand } from '../../cli/drill';
import { type Output, UsageError } from '../../cli/io';

export async function runDrillProgram(
  argv: readonly string[],
  io: Output,
  clock: () => number = Date.now,
): Promise<number> {
  const program = new Command('forestall')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerDrillCommand(program, io, clock);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof ExitStatus) return e.code;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      io.err(`forestall: ${e.message}`);
      return 2;
    }
    io.err(`forestall: internal error: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  runDrillProgram(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
