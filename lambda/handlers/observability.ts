/** Powertools logger (JSON), metrics (EMF, namespace Forestall) and tracer: created once, imported everywhere. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = 'forestall';
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: 'Forestall', serviceName });
export const tracer = new Tracer({ serviceName });
