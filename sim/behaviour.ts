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
  /**
   * Auto Scaling's EC2 health-check period (AWS-FACTS §9): an InService member that is not running, or whose
   * status checks stay impaired, is terminated and replaced. 0: never (as with ReplaceUnhealthy suspended).
   */
  readonly asgHealthCheckInterval: number;
  /** HealthCheckGracePeriod: a member Auto Scaling launched is not checked until this long after launch. */
  readonly asgHealthCheckGrace: number;
  /** How long status checks may say `impaired` before the member counts as unhealthy. */
  readonly asgImpairedTolerance: number;
  /** [min, max] milliseconds from launch until a member Auto Scaling launched is running, healthy, InService. */
  readonly asgLaunchDuration: readonly [number, number];
  /** Share of EnterStandby / ExitStandby calls refused with ResourceContention (a pending group update). */
  readonly resourceContentionRate: number;
  /** How long a newly registered target stays `initial`: ALB's default 5 healthy checks 30 s apart. */
  readonly targetInitialDuration: number;
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
  asgHealthCheckInterval: MINUTE,
  asgHealthCheckGrace: 5 * MINUTE,
  asgImpairedTolerance: 5 * MINUTE,
  asgLaunchDuration: [2 * MINUTE, 4 * MINUTE],
  resourceContentionRate: 0,
  targetInitialDuration: 150_000,
};
