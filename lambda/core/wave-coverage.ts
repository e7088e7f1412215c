/**
 * Config waves that no instance would join: a wave whose `match.tags` no opted-in instance carries (a typo,
 * a tag not rolled out yet), or whose instances all join an earlier wave first (an instance joins the first
 * wave it matches). Either way the wave plans nothing, which the operator should hear about.
 */
import { type Config, isOptedIn, matchesWave } from './config';
import type { InstanceFacts } from './types';

export interface EmptyWave {
  readonly wave: string;
  /** Why, for a warning line: `matches no opted-in instance (match.tags forestall:wave=canary)`. */
  readonly why: string;
}

export function emptyWaves(
  facts: readonly InstanceFacts[],
  config: Pick<Config, 'waves' | 'optInTag'>,
): EmptyWave[] {
  const { key, value } = config.optInTag;
  const joined = config.waves.map(() => 0);
  const matched = config.waves.map(() => 0);
  for (const f of facts) {
    if (!isOptedIn(f.tags, config)) continue;
    let first = true;
    config.waves.forEach((wave, w) => {
      if (!matchesWave(f.tags, wave)) return;
      matched[w] = (matched[w] ?? 0) + 1;
      if (first) joined[w] = (joined[w] ?? 0) + 1;
      first = false;
    });
  }
  const empty: EmptyWave[] = [];
  config.waves.forEach((w, i) => {
    if ((joined[i] ?? 0) > 0) return;
    const tags = Object.entries(w.match.tags).map(([k, v]) => `${k}=${v}`);
    const match = tags.length === 0 ? 'matches every instance' : `match.tags ${tags.join(' ')}`;
    empty.push({
      wave: w.name,
      why:
        (matched[i] ?? 0) > 0
          ? `gets no instance: the ${matched[i]} opted-in instance(s) it matches join an earlier wave first (${match})`
          : `matches no opted-in instance (${match}; opt-in tag ${key}=${value})`,
    });
  });
  return empty;
}
