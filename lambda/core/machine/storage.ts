/**
 * Storage shape (issue: DynamoDB items ≤ 400 KB): one step (state + its write-ahead commands) is stored as
 * a head record and chunk records, each ≤ RECORD_LIMIT bytes whatever the batch size. The per-item arrays
 * (the current batch's items, pending reschedules, commands) are packed into chunks; the rest is the head.
 * Parsing goes through the zod schema, so nothing survives a reload that the schema does not know.
 */
import type { Command } from './commands';
import { parseRolloutState, type RolloutState } from './state';

/** Bytes per stored record (DynamoDB's item limit is 400 KB; keys and attributes need the rest). */
export const RECORD_LIMIT = 350 * 1024;
/** Target size of a chunk's data, leaving room for its envelope. */
const CHUNK_TARGET = 300 * 1024;

export interface StoredStep {
  readonly state: RolloutState;
  readonly commands: readonly Command[];
}

type Part = 'items' | 'reschedules' | 'commands';

interface Head {
  readonly kind: 'head';
  readonly state: unknown;
  readonly chunks: Readonly<Record<Part, number>>;
}

interface Chunk {
  readonly kind: Part;
  readonly index: number;
  readonly data: readonly unknown[];
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Packs a list into chunks of at most CHUNK_TARGET bytes of data. Slices are stringified whole (one call per
 * chunk, not per entry: this runs on every stored step); the entries per chunk are guessed from the sizes
 * seen so far, and a slice that comes out too large is halved until it fits.
 */
function pack(part: Part, list: readonly unknown[]): string[] {
  const out: string[] = [];
  const first = list.length > 0 ? bytes(JSON.stringify(list[0])) + 1 : 1;
  let guess = Math.max(1, Math.floor((0.9 * CHUNK_TARGET) / first));
  for (let from = 0; from < list.length; ) {
    let n = Math.min(guess, list.length - from);
    let data = JSON.stringify(list.slice(from, from + n));
    let size = bytes(data);
    while (size > CHUNK_TARGET && n > 1) {
      n = Math.ceil(n / 2);
      data = JSON.stringify(list.slice(from, from + n));
      size = bytes(data);
    }
    if (size > CHUNK_TARGET)
      throw new Error(`one ${part} entry is ${size - 2} bytes, over the ${CHUNK_TARGET}-byte chunk size`);
    out.push(`{"kind":"${part}","index":${out.length},"data":${data}}`);
    from += n;
    // Aim a little under the target, so that the next slice rarely needs halving.
    guess = Math.max(1, Math.floor((n * 0.9 * CHUNK_TARGET) / size));
  }
  return out;
}

/** The records of one step: the head first, then chunks in order. Throws if the head itself is too large. */
export function toRecords({ state, commands }: StoredStep): string[] {
  const { current, reschedules, ...rest } = state;
  const parts: Record<Part, string[]> = {
    items: pack('items', current?.items ?? []),
    reschedules: pack('reschedules', reschedules),
    commands: pack('commands', commands),
  };
  const headState = { ...rest, reschedules: [], ...(current ? { current: { ...current, items: [] } } : {}) };
  const head: Head = {
    kind: 'head',
    state: headState,
    chunks: {
      items: parts.items.length,
      reschedules: parts.reschedules.length,
      commands: parts.commands.length,
    },
  };
  const headText = JSON.stringify(head);
  if (bytes(headText) > RECORD_LIMIT)
    throw new Error(
      `rollout ${state.rolloutId}: state head is ${bytes(headText)} bytes, over ${RECORD_LIMIT}`,
    );
  return [headText, ...parts.items, ...parts.reschedules, ...parts.commands];
}

/** Reassembles and validates a stored step; a missing chunk or an unknown shape is an error, never a guess. */
export function fromRecords(records: readonly string[]): StoredStep {
  const [headText, ...rest] = records;
  if (headText === undefined) throw new Error('no stored step');
  const head = JSON.parse(headText) as Head;
  if (head.kind !== 'head') throw new Error('the first stored record is not a step head');
  const lists: Record<Part, unknown[]> = { items: [], reschedules: [], commands: [] };
  const seen: Record<Part, number> = { items: 0, reschedules: 0, commands: 0 };
  for (const text of rest) {
    const chunk = JSON.parse(text) as Chunk;
    if (chunk.index !== seen[chunk.kind])
      throw new Error(`stored ${chunk.kind} chunk ${chunk.index} is out of order`);
    seen[chunk.kind]++;
    lists[chunk.kind].push(...chunk.data);
  }
  for (const part of Object.keys(seen) as Part[]) {
    if (seen[part] !== head.chunks[part])
      throw new Error(`stored step has ${seen[part]} ${part} chunk(s), expected ${head.chunks[part]}`);
  }
  const raw = head.state as Record<string, unknown> & { current?: Record<string, unknown> };
  const state = parseRolloutState({
    ...raw,
    reschedules: lists.reschedules,
    ...(raw.current ? { current: { ...raw.current, items: lists.items } } : {}),
  });
  return { state, commands: lists.commands as Command[] };
}

/** What a Step Functions state passes between tasks: references only, never the state itself. */
export interface StepReference {
  readonly rolloutId: string;
  readonly step: number;
  readonly status: RolloutState['status'];
  /** ISO time of the next wake-up, when the step ended waiting. */
  readonly waitUntil?: string;
}

export function stepReference({ state, commands }: StoredStep): StepReference {
  const wait = commands.find((c) => c.kind === 'wait-until');
  return {
    rolloutId: state.rolloutId,
    step: state.step,
    status: state.status,
    ...(wait?.kind === 'wait-until' ? { waitUntil: new Date(wait.at).toISOString() } : {}),
  };
}
