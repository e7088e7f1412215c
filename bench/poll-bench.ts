/**
 * `npm run bench:poll [-- N]`: one poll of N instances (default 10,000), every one with a scheduled event,
 * against the moto launcher on loopback, through the real SDK and the real poll handler. Prints the API calls
 * the poll made (counted at the server), its wall time and the process's memory; a second poll shows the
 * steady state (nothing new: reads only). Needs Python's moto (see README).
 */

import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { EVENT_CODES } from '../lambda/core/types';
import { logger } from '../lambda/handlers/observability';
import { handler } from '../lambda/handlers/poll';
import { createLedgerTable } from '../test/aws/moto/aws-resources';
import { launch } from '../test/aws/moto/fleet';
import { MotoServer } from '../test/aws/moto/server';

const N = Number(process.argv[2] ?? 10_000);
async function main() {
  const moto = await MotoServer.start();
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_TRACE_ENABLED: 'false',
      FORESTALL_TABLE: 'bench-ledger',
      FORESTALL_BUS: 'forestall',
      FORESTALL_CONFIG: JSON.stringify({ regions: ['us-east-1'] }),
    });
    logger.setLogLevel('SILENT');
    await createLedgerTable('bench-ledger');
    await new EventBridgeClient({ region: 'us-east-1' }).send(
      new CreateEventBusCommand({ Name: 'forestall' }),
    );
    const ids = await launch(new EC2Client({ region: 'us-east-1' }), { count: N });
    const now = Math.floor(Date.now() / 1000) * 1000;
    await moto.seedEvents(
      ids.map((instanceId, i) => ({
        instanceId,
        code: EVENT_CODES[i % EVENT_CODES.length] as string,
        notBefore: new Date(now + (2 + (i % 12)) * 86_400_000),
      })),
    );
    const context = {
      awsRequestId: 'bench',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:poll',
    };
    for (const label of ['first poll', 'second poll']) {
      await moto.resetRequests();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = Date.now();
      const result = await handler({}, context as Context);
      const ms = Date.now() - started;
      const calls: Record<string, number> = {};
      for (const r of await moto.requests()) calls[r.action] = (calls[r.action] ?? 0) + 1;
      const mem = process.memoryUsage();
      console.log(
        JSON.stringify({
          label,
          instances: N,
          seconds: ms / 1000,
          calls,
          summary: result['us-east-1'],
          rssMB: Math.round(mem.rss / 2 ** 20),
          heapGrowthMB: Math.round((mem.heapUsed - heapBefore) / 2 ** 20),
        }),
      );
    }
  } finally {
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
