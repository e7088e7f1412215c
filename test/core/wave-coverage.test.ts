import { parseConfig } from '../../lambda/core/config';
import type { InstanceFacts } from '../../lambda/core/types';
import { emptyWaves } from '../../lambda/core/wave-coverage';

const instance = (i: number, tags: Record<string, string>): InstanceFacts => ({
  instanceId: `i-${String(i).padStart(17, '0')}`,
  region: 'us-east-1',
  instanceType: 'm5.large',
  az: 'us-east-1a',
  tags,
  rootDevice: 'ebs',
  instanceStore: 'none',
  lifecycle: 'on-demand',
  rebootMigration: 'default',
  state: 'running',
});
const managed = { 'forestall:managed': 'true' };

describe('emptyWaves', () => {
  const config = parseConfig({
    waves: [
      { name: 'canary', match: { tags: { tier: 'canary' } }, maxParallel: 1 },
      { name: 'web', match: { tags: { app: 'web' } }, maxParallel: 1 },
      { name: 'all', maxParallel: 1 },
      { name: 'never', match: { tags: { app: 'web' } }, maxParallel: 1 },
    ],
  });

  it('names the waves no opted-in instance joins, and why: no match, or an earlier wave took them', () => {
    const facts = [
      instance(1, { ...managed, app: 'web' }),
      instance(2, { ...managed, app: 'db' }),
      instance(3, { tier: 'canary' }), // not opted in: it never joins anything
    ];
    expect(emptyWaves(facts, config)).toEqual([
      {
        wave: 'canary',
        why: 'matches no opted-in instance (match.tags tier=canary; opt-in tag forestall:managed=true)',
      },
      {
        wave: 'never',
        why: 'gets no instance: the 1 opted-in instance(s) it matches join an earlier wave first (match.tags app=web)',
      },
    ]);
  });

  it('names none when every wave gets an instance', () => {
    const facts = [
      instance(1, { ...managed, tier: 'canary' }),
      instance(2, { ...managed, app: 'web' }),
      instance(3, managed),
    ];
    expect(emptyWaves(facts, { ...config, waves: config.waves.slice(0, 3) })).toEqual([]);
  });
});
