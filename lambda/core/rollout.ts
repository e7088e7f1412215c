/**
 * What "healthy" means for a remedy (AWS-FACTS §1): running with both status checks ok. An API call that
 * succeeded proves nothing; the rollout machine (machine/) decides everything else.
 */
import type { InstanceStatus } from './types';

export function isHealthy(status: InstanceStatus): boolean {
  return status.state === 'running' && status.instanceStatus === 'ok' && status.systemStatus === 'ok';
}
