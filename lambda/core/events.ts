/**
 * The events Forestall emits on its bus (source `forestall`). The JSON Schemas in schemas/ (reporting
 * issue) describe these shapes; every detail carries rolloutId and region, instance events carry the ids.
 */
export const DETAIL_TYPES = [
  'Notice Discovered',
  'Rollout Planned',
  'Plan Infeasible',
  'Batch Started',
  'Approval Requested',
  'Instance Remedied',
  'Instance Remedy Failed',
  'Batch Completed',
  'Rollout Halted',
  'Rollout Completed',
  'Notice Skipped',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

export interface ForestallEvent {
  readonly detailType: DetailType;
  readonly time: string;
  readonly detail: {
    readonly rolloutId: string;
    readonly region: string;
    readonly instanceId?: string;
    readonly eventId?: string;
    readonly code?: string;
    readonly remedy?: string;
    readonly deadline?: string;
    readonly waveIndex?: number;
    readonly reason?: string;
    readonly [key: string]: unknown;
  };
}
