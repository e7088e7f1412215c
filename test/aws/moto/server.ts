/**
 * Starts the project's moto launcher (forestall_moto.py) on a free loopback port for one test file, waits
 * until it answers, and stops it by PID. Tests talk to it through the real AWS SDK (AWS_ENDPOINT_URL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const LAUNCHER = join(__dirname, 'forestall_moto.py');
/** The Python that has moto installed (`python3` unless FORESTALL_MOTO_PYTHON says otherwise). */
export const MOTO_PYTHON = process.env.FORESTALL_MOTO_PYTHON ?? 'python3';

export interface SeedEvent {
  readonly instanceId: string;
  readonly code: string;
  readonly notBefore: Date;
  readonly notAfter?: Date;
  readonly notBeforeDeadline?: Date;
  readonly description?: string;
  readonly eventId?: string;
}

export interface LoggedRequest {
  readonly service: string;
  readonly action: string;
  /** When the server received it (ISO, the server's clock: virtual in the end-to-end suite). */
  readonly at?: string;
  /** The Region an EC2 request went to. */
  readonly region?: string;
  /** EC2 query parameters (`Filter.1.Name`, `MaxResults`, `InstanceId.1`, ...). */
  readonly params?: Readonly<Record<string, string>>;
}

export interface Fault {
  readonly action: string;
  readonly status: number;
  readonly code: string;
  readonly times?: number;
  /** The action takes effect, then the reply is an error (a lost reply). */
  readonly after?: boolean;
}

export class MotoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(): Promise<MotoServer> {
    const port = await freePort();
    const child = spawn(MOTO_PYTHON, [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const server = new MotoServer(child, `http://127.0.0.1:${port}`);
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`moto launcher exited (${child.exitCode}): ${stderr}`);
      try {
        await server.requests();
        return server;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await server.stop();
    throw new Error(`moto launcher did not answer on port ${port} within 20 s: ${stderr}`);
  }

  /** Sends SIGTERM to the launcher's PID and waits for it to exit. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    process.kill(pid, 'SIGTERM');
    await exited;
  }

  private async call<T>(path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.endpoint}/moto-api/forestall/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!r.ok) throw new Error(`moto ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  /** Upserts scheduled events (by eventId); `migration` seeds whether a user reboot migrates. */
  async seedEvents(
    events: readonly SeedEvent[],
    migration: Readonly<Record<string, 'succeeds' | 'fails'>> = {},
  ): Promise<string[]> {
    const r = await this.call<{ eventIds: string[] }>('events', { events, migration });
    return r.eventIds;
  }

  /** AWS finishes an event: its Description gains `[Completed]`/`[Canceled]`, or it disappears. */
  async clearEvent(
    instanceId: string,
    eventId: string,
    as: 'completed' | 'canceled' | 'gone',
  ): Promise<void> {
    await this.call('events/clear', { instanceId, eventId, as });
  }

  /** Runs the server's clock `offsetMs` ahead of the real one (the handlers' virtual clock in the e2e suite). */
  async setClockOffset(offsetMs: number): Promise<void> {
    await this.call('clock', { offsetMs });
  }

  /** These instances' status checks fail while they run (`impaired: false` heals them). */
  async setImpaired(instanceIds: readonly string[], impaired = true): Promise<void> {
    await this.call('impaired', { instanceIds, impaired });
  }

  async requests(): Promise<LoggedRequest[]> {
    return (await this.call<{ requests: LoggedRequest[] }>('requests')).requests;
  }

  /** Clears the request log and any faults left over. */
  async resetRequests(): Promise<void> {
    await this.call('requests/reset', {});
  }

  async injectFaults(faults: readonly Fault[]): Promise<void> {
    await this.call('faults', { faults });
  }

  /** Logged requests of one action. */
  async count(action: string): Promise<number> {
    return (await this.requests()).filter((r) => r.action === action).length;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/**
 * One launcher per test file: started in beforeAll, stopped in afterAll. The SDK finds it through
 * AWS_ENDPOINT_URL (the SDK's own endpoint override), with dummy credentials and no real AWS.
 */
export function useMoto(): { readonly server: () => MotoServer } {
  let server: MotoServer | undefined;
  beforeAll(async () => {
    server = await MotoServer.start();
    process.env.AWS_ENDPOINT_URL = server.endpoint;
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    process.env.AWS_REGION = 'us-east-1';
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    server: () => {
      if (!server) throw new Error('moto is not running (useMoto in a describe block)');
      return server;
    },
  };
}
