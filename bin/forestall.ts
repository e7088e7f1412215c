/**
 * CDK app entry: load and validate the config once, then create the stacks: Forestall in the first Region
 * of `regions` (the home Region), and a Health forwarder in each other one. Any config problem fails synth
 * with one line on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { ConfigError, parseConfig } from '../lambda/core/config';
import { ForestallStack } from '../lib/forestall-stack';
import { HealthForwarderStack } from '../lib/health-forwarder-stack';

class ConfigFileError extends Error {}

/** The config's JSON and where it came from: cdk.json context `forestall`, `-c forestallConfig=PATH`, or the default file. */
function loadConfigSource(app: App): { raw: unknown; source: string } {
  const fromContext = app.node.tryGetContext('forestall') as unknown;
  if (fromContext !== undefined) return { raw: fromContext, source: 'config (cdk.json context "forestall")' };
  const named = app.node.tryGetContext('forestallConfig') as string | undefined;
  const path = named ?? 'forestall.config.json';
  if (!existsSync(path)) {
    if (named !== undefined)
      throw new ConfigFileError(`config file ${path} (-c forestallConfig) does not exist`);
    return { raw: {}, source: 'config (defaults)' };
  }
  try {
    return { raw: JSON.parse(readFileSync(path, 'utf8')), source: `config ${path}` };
  } catch (e) {
    throw new ConfigFileError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

const app = new App();
try {
  const { raw, source } = loadConfigSource(app);
  const config = parseConfig(raw, source);
  const [home = 'us-east-1', ...others] = config.regions;
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  new ForestallStack(app, 'Forestall', { config, configSource: raw, env: { region: home, account } });
  for (const region of others)
    new HealthForwarderStack(app, `ForestallHealthForwarder-${region}`, {
      homeRegion: home,
      env: { region, account },
    });
} catch (e) {
  if (e instanceof ConfigError || e instanceof ConfigFileError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
