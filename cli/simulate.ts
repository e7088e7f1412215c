import type { Output } from './io';
import { UsageError } from './io';
export interface SimulateOptions {
  scenario: string;
  config?: string;
  seed?: string;
  json?: boolean;
  progress?: boolean;
}
export async function runSimulate(_opts: SimulateOptions, _io: Output): Promise<void> {
  throw new UsageError('simulate: not yet');
}
