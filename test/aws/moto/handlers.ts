/** Running the real Lambda handlers against moto: their environment, a Lambda context, the shared resources. */
import type { Context } from 'aws-lambda';
import { assertCatalogued } from '../../../lambda/core/catalog';
import { type BusCapture, busToQueue, createLedgerTable } from './aws-resources';

export const ACCOUNT = '123456789012';

export function lambdaContext(requestId: string, name = 'poll'): Context {
  return {
    awsRequestId: requestId,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`,
  } as Context;
}

/** Creates the ledger table and the bus (with an SQS capture) and sets the handlers' environment. */
export async function handlerResources(config: object, pageSize?: number): Promise<BusCapture> {
  Object.assign(process.env, {
    FORESTALL_TABLE: await createLedgerTable('forestall-ledger'),
    FORESTALL_BUS: 'forestall',
    FORESTALL_CONFIG: JSON.stringify(config),
    ...(pageSize ? { FORESTALL_PAGE_SIZE: String(pageSize) } : {}),
  });
  return busToQueue('forestall');
}

type Delivered = Awaited<ReturnType<BusCapture['drain']>>[number];

/** Drains the capture queue, checking every event against the catalog. */
export async function delivered(bus: BusCapture): Promise<Delivered[]> {
  const events = await bus.drain();
  for (const e of events) assertCatalogued(e['detail-type'], e.detail);
  return events;
}
