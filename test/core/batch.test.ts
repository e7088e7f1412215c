import { allPages, type CallEnv, callIsolating, withThrottleRetry } from '../../lambda/core/batch';

class ApiError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function env(slept: number[]): CallEnv {
  return {
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 1,
    isThrottle: (e) => e instanceof ApiError && e.code === 'RequestLimitExceeded',
    isAmbiguous: (e) => e instanceof ApiError && (e.code === 'InternalError' || e.code === 'TimeoutError'),
    describeError: (e) => (e as Error).message,
    retry: { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 2_000 },
  };
}

describe('callIsolating: an ambiguous failure is never sent again', () => {
  it('returns every id ambiguous after a 5xx or a timeout, with one call only', async () => {
    for (const code of ['InternalError', 'TimeoutError']) {
      const calls: string[][] = [];
      const out = await callIsolating(
        ['i-1', 'i-2', 'i-3'],
        (ids) => {
          calls.push([...ids]);
          throw new ApiError(code);
        },
        env([]),
      );
      expect(calls).toEqual([['i-1', 'i-2', 'i-3']]);
      expect(out).toEqual(
        ['i-1', 'i-2', 'i-3'].map((instanceId) => ({ instanceId, ok: false, ambiguous: true, error: code })),
      );
    }
  });

  it('splits a call id by id only after a definite client error, to pin it on one instance', async () => {
    const calls: string[][] = [];
    const out = await callIsolating(
      ['i-1', 'i-2'],
      (ids) => {
        calls.push([...ids]);
        if (ids.includes('i-2')) throw new ApiError('IncorrectInstanceState');
      },
      env([]),
    );
    expect(calls).toEqual([['i-1', 'i-2'], ['i-1'], ['i-2']]);
    expect(out).toEqual([
      { instanceId: 'i-1', ok: true },
      { instanceId: 'i-2', ok: false, error: 'IncorrectInstanceState' },
    ]);
  });
});

describe('withThrottleRetry', () => {
  it('retries throttling with capped exponential backoff, then succeeds', async () => {
    const slept: number[] = [];
    let calls = 0;
    const out = await withThrottleRetry(() => {
      calls++;
      if (calls < 4) throw new ApiError('RequestLimitExceeded');
      return 'ok';
    }, env(slept));
    expect(out).toBe('ok');
    expect(slept).toEqual([1_000, 2_000, 2_000]);
  });

  it('does not retry a client error', async () => {
    const slept: number[] = [];
    await expect(
      withThrottleRetry(() => Promise.reject(new ApiError('UnauthorizedOperation')), env(slept)),
    ).rejects.toThrow('UnauthorizedOperation');
    expect(slept).toEqual([]);
  });
});

describe('callIsolating', () => {
  it('gives every id an ok outcome when the batch call succeeds', async () => {
    expect(await callIsolating(['i-1', 'i-2'], () => {}, env([]))).toEqual([
      { instanceId: 'i-1', ok: true },
      { instanceId: 'i-2', ok: true },
    ]);
  });

  it('pins a batch error on the instance that caused it by retrying id by id', async () => {
    const seen: string[][] = [];
    const out = await callIsolating(
      ['i-1', 'i-bad', 'i-3'],
      (ids) => {
        seen.push([...ids]);
        if (ids.includes('i-bad')) throw new ApiError('IncorrectInstanceState');
      },
      env([]),
    );
    expect(out).toEqual([
      { instanceId: 'i-1', ok: true },
      { instanceId: 'i-bad', ok: false, error: 'IncorrectInstanceState' },
      { instanceId: 'i-3', ok: true },
    ]);
    expect(seen).toEqual([['i-1', 'i-bad', 'i-3'], ['i-1'], ['i-bad'], ['i-3']]);
  });

  it('marks every id retryable when throttling outlasts the retries', async () => {
    const out = await callIsolating(
      ['i-1', 'i-2'],
      () => Promise.reject(new ApiError('RequestLimitExceeded')),
      env([]),
    );
    expect(out).toEqual([
      { instanceId: 'i-1', ok: false, retryable: true, error: 'RequestLimitExceeded' },
      { instanceId: 'i-2', ok: false, retryable: true, error: 'RequestLimitExceeded' },
    ]);
  });
});

describe('allPages', () => {
  it('follows NextToken to the last page, passing each token once, in order', async () => {
    const asked: Array<string | undefined> = [];
    const pages = await allPages(async (token) => {
      asked.push(token);
      const n = token === undefined ? 0 : Number(token);
      return n < 2 ? { items: [n], NextToken: String(n + 1) } : { items: [n] };
    });
    expect(asked).toEqual([undefined, '1', '2']);
    expect(pages.flatMap((p) => p.items)).toEqual([0, 1, 2]);
  });
});
