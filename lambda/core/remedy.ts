/**
 * Which remedy clears an event on this instance (AWS-FACTS "What this means", table 2).
 * Static facts only; whether the remedy fits in time is the planner's question.
 */
import type { Config } from './config';
import {
  type ConfigurableRemedy,
  type EventCode,
  type InstanceFacts,
  isEventCode,
  type Notice,
  type Remedy,
} from './types';

export interface RemedyChoice {
  /** null: nothing allowed applies, AWS's own schedule will act. */
  readonly remedy: Remedy | null;
  /** Why this remedy, or why none: each rejected candidate with its reason. */
  readonly reason: string;
}

type RemedyPolicy = Pick<Config, 'remedies' | 'instanceStoreDisposable'>;

/** Stop-start loses instance store and is impossible on an instance-store root or a non-persistent Spot. */
export function whyNotStopStart(facts: InstanceFacts, policy: RemedyPolicy): string | undefined {
  if (facts.rootDevice === 'instance-store') return 'instance-store root cannot be stopped';
  if (facts.lifecycle === 'spot') return 'Spot instance: a user stop works only for persistent requests';
  if (facts.lifecycle === 'other') return 'scheduled or capacity-block instance: not stopped by Forestall';
  if (!policy.instanceStoreDisposable) {
    if (facts.instanceStore === 'present')
      return `${facts.instanceType} has instance-store volumes whose data a stop loses (set instanceStoreDisposable if that is fine)`;
    if (facts.instanceStore === 'unknown')
      return `instance store of ${facts.instanceType} unknown (give describe-instance-types output, or set instanceStoreDisposable)`;
  }
  return undefined;
}

function whyNot(
  remedy: ConfigurableRemedy,
  notice: Notice,
  facts: InstanceFacts,
  policy: RemedyPolicy,
): string | undefined {
  switch (remedy) {
    case 'reboot-migrate':
      // A user reboot never clears instance-reboot; it clears system-reboot only by a successful migration.
      if (notice.code !== 'system-reboot') return `a reboot does not clear ${notice.code}`;
      if (facts.rebootMigration !== 'default') return `reboot migration is ${facts.rebootMigration}`;
      return undefined;
    case 'stop-start':
      return whyNotStopStart(facts, policy);
    case 'reschedule':
      return notice.notBeforeDeadline === undefined ? 'event has no NotBeforeDeadline' : undefined;
    case 'report-only':
      return undefined;
  }
}

const REPLACEMENT_CODES: readonly string[] = ['instance-stop', 'instance-retirement', 'system-maintenance'];

export function chooseRemedy(notice: Notice, facts: InstanceFacts, policy: RemedyPolicy): RemedyChoice {
  if (!isEventCode(notice.code)) return { remedy: null, reason: `unsupported event code "${notice.code}"` };
  const allowed = policy.remedies[notice.code as EventCode];
  const rejected: string[] = [];
  for (const candidate of allowed) {
    const why = whyNot(candidate, notice, facts, policy);
    if (why === undefined) {
      if (candidate === 'report-only') {
        return {
          remedy: candidate,
          reason: `the ${notice.code} policy says report only${rejected.length ? ` (${rejected.join('; ')})` : ''}; AWS acts at NotBefore`,
        };
      }
      return {
        remedy: candidate,
        reason: rejected.length ? `first allowed that applies (${rejected.join('; ')})` : 'first allowed',
      };
    }
    rejected.push(`${candidate}: ${why}`);
  }
  if (facts.rootDevice === 'instance-store' && REPLACEMENT_CODES.includes(notice.code)) {
    return {
      remedy: 'needs-replacement',
      reason: `instance-store root: replace it from an AMI before ${notice.code} (${rejected.join('; ')})`,
    };
  }
  return { remedy: null, reason: `no allowed remedy applies (${rejected.join('; ')})` };
}
