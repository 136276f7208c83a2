/**
 * `npm run cost`: synthesizes the app offline (or reads `--cdk-out <dir>`), prices it for the idle,
 * 30-messages-a-day and Fargate-heavy scenarios (or `--profile <file.json>`), and prints one table per
 * scenario with a PASS/FAIL line per target.
 *
 *   npm run cost
 *   npm run cost -- --cdk-out cdk.out --detail
 *   npm run cost -- --profile my-usage.json --config deploy.config.json
 *   npm run cost -- --messages 60 --fargate-share 0.5 --fargate-hours 2
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadDeploymentConfig } from '../cdk/config.ts';
import { repoPath } from '../cdk/paths.ts';
import { buildInventory } from './inventory.ts';
import { priceDeployment } from './model.ts';
import { parseUsageProfile, SCENARIOS, type UsageProfileInput } from './profile.ts';
import { priceHeader, renderTable, renderTargets } from './report.ts';
import { readCloudAssembly, synthesize } from './templates.ts';

const { values } = parseArgs({
  options: {
    'cdk-out': { type: 'string' },
    config: { type: 'string' },
    profile: { type: 'string' },
    messages: { type: 'string' },
    'fargate-share': { type: 'string' },
    'fargate-hours': { type: 'string' },
    detail: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run cost -- [--cdk-out dir] [--config deploy.config.json] [--profile usage.json]');
  console.log('       [--messages N] [--fargate-share 0..1] [--fargate-hours H] [--detail]');
  process.exit(0);
}

const number = (flag: string, value: string | undefined) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${flag} takes a number, e.g. --${flag} 30`);
  return n;
};
const flags: UsageProfileInput = Object.fromEntries(
  Object.entries({
    messagesPerDay: number('messages', values.messages),
    fargateShare: number('fargate-share', values['fargate-share']),
    fargateHoursPerDay: number('fargate-hours', values['fargate-hours']),
  }).filter(([, v]) => v !== undefined),
);

const assembly = values['cdk-out']
  ? readCloudAssembly(values['cdk-out'])
  : await synthesize(loadDeploymentConfig(values.config ?? repoPath('deploy.config.json')));
const inventory = buildInventory(assembly.stacks, assembly.containerImages);

const custom = values.profile || Object.keys(flags).length > 0;
const scenarios: Record<string, UsageProfileInput> = custom
  ? { custom: { ...(values.profile ? JSON.parse(readFileSync(values.profile, 'utf8')) : {}), ...flags } }
  : SCENARIOS;

console.log(priceHeader());
const results: Record<
  string,
  { withFree: ReturnType<typeof priceDeployment>; withoutFree: ReturnType<typeof priceDeployment> }
> = {};
for (const [id, input] of Object.entries(scenarios)) {
  const profile = parseUsageProfile(input);
  const withFree = priceDeployment(inventory, profile, { freeTier: true });
  const withoutFree = priceDeployment(inventory, profile, { freeTier: false });
  results[id] = { withFree, withoutFree };
  console.log(`\n${renderTable(withFree, withoutFree, values.detail)}`);
}
const targets = renderTargets(results);
if (targets) console.log(`\n${targets}`);
