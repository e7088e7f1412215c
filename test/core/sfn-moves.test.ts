/** The Step Functions driver's hand-offs (lambda/core/sfn-moves.ts): per batch, and after MAX_TURNS turns. */
import { executionName, handoff, MAX_TURNS, type TurnInput } from '../../lambda/core/sfn-moves';

const input: TurnInput = {
  rolloutId: 'fs-us-east-1-20261201T000000000',
  region: 'us-east-1',
  batch: 2,
  part: 0,
  turns: 0,
};

describe('handoff', () => {
  it('goes on while the rollout is in this execution’s batch and fewer than MAX_TURNS turns ran', () => {
    expect(handoff(input, 2)).toBeUndefined();
    expect(handoff({ ...input, turns: MAX_TURNS - 2 }, 2)).toBeUndefined();
  });

  it('hands off to the next part of the batch on the MAX_TURNS-th turn, exactly', () => {
    // `turns` counts the Step tasks run before this one: this is turn MAX_TURNS.
    const next = { ...input, part: 1, turns: 0 };
    expect(handoff({ ...input, turns: MAX_TURNS - 1 }, 2)).toEqual({
      next: 'handoff',
      nextName: executionName(next),
      nextInput: next,
    });
  });

  it('hands off to the batch the rollout moved to, part 0, turns counted afresh', () => {
    const next = { ...input, batch: 3, part: 0, turns: 0 };
    expect(handoff({ ...input, part: 4, turns: 17 }, 3)).toEqual({
      next: 'handoff',
      nextName: executionName(next),
      nextInput: next,
    });
    expect(executionName(next)).toBe('fs-us-east-1-20261201T000000000-b3-p0');
  });
});
