/** How the simulated Region behaves where AWS leaves room (durations, failure rates, unverified points). */
import { MINUTE } from '../lambda/core/time';

export interface SimBehaviour {
  readonly rebootMigrationSuccess: number;
  readonly neverHealthyRate: number;
  /** Whether a stop-start clears an instance-reboot event: UNVERIFIED at AWS (AWS-FACTS §1), so off by default. */
  readonly stopStartClearsInstanceReboot: boolean;
  readonly throttling: boolean;
  /** [min, max] milliseconds. */
  readonly rebootDuration: readonly [number, number];
  readonly stopDuration: readonly [number, number];
  readonly startDuration: readonly [number, number];
  readonly statusCheckDelay: readonly [number, number];
  readonly maintenanceOutage: readonly [number, number];
  /** Where in [NotBefore, NotAfter] AWS performs an event: 0 at NotBefore, 1 anywhere in the window. */
  readonly awsStartSpread: number;
}

export const DEFAULT_BEHAVIOUR: SimBehaviour = {
  rebootMigrationSuccess: 0.9,
  neverHealthyRate: 0,
  stopStartClearsInstanceReboot: false,
  throttling: true,
  rebootDuration: [1 * MINUTE, 3 * MINUTE],
  stopDuration: [1 * MINUTE, 2 * MINUTE],
  startDuration: [30_000, 90_000],
  statusCheckDelay: [2 * MINUTE, 6 * MINUTE],
  maintenanceOutage: [1 * MINUTE, 5 * MINUTE],
  awsStartSpread: 0,
};
