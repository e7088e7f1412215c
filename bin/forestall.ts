/** CDK app entry: load and validate the config once, then create the stack. Invalid config fails synth. */
import { existsSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { ConfigError, parseConfig } from '../lambda/core/config';
import { ForestallStack } from '../lib/forestall-stack';

const app = new App();
const path = (app.node.tryGetContext('forestallConfig') as string | undefined) ?? 'forestall.config.json';
const fromContext = app.node.tryGetContext('forestall') as unknown;
let raw: unknown = fromContext ?? {};
if (fromContext === undefined && existsSync(path)) raw = JSON.parse(readFileSync(path, 'utf8'));
try {
  const config = parseConfig(
    raw,
    fromContext === undefined ? `config ${path}` : 'config (cdk.json context "forestall")',
  );
  new ForestallStack(app, 'Forestall', { config });
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
