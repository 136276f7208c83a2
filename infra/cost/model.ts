/**
 * The cost model: prices an `Inventory` (what the templates deploy) under a `UsageProfile` (how it is
 * used) at the list prices of prices.ts. Pure: no AWS calls, no files.
 */
import type { TargetId } from '../../bus/routing-table.ts';
import { EXPECTED_METRICS } from '../cdk/constructs/monitoring.ts';
import type { FunctionInfo, Inventory } from './inventory.ts';
import { type MessageRequests, messageRequests } from './message-path.ts';
import { DAYS_PER_MONTH, HOURS_PER_MONTH, type MeterId, PRICES } from './prices.ts';
import type { UsageProfile } from './profile.ts';

/** One priced quantity: a meter of one service, for one item (a function, an alarm count…). */
export interface CostLine {
  service: string;
  item: string;
  /** `fixed`: billed whether or not anyone uses the deployment; `usage`: grows with the profile. */
  kind: 'fixed' | 'usage';
  meter: MeterId;
  quantity: number;
  /** After the free tier, when it applies. */
  usd: number;
}

export interface CostTable {
  profile: UsageProfile;
  freeTier: boolean;
  lines: CostLine[];
  fixedUsd: number;
  usageUsd: number;
  totalUsd: number;
  /** Resource types the model does not price (see inventory.ts). */
  unpriced: string[];
}

export interface PriceOptions {
  /** Apply AWS's always-free tier (10 alarms, 3 dashboards, 1M Lambda requests…). @default true */
  freeTier?: boolean;
}

/** The construct id of the function behind each bus target and entry point (infra/cdk/stacks/app-stack.ts). */
const FUNCTION_NAMES = {
  'runtime-selector': 'RuntimeSelector',
  agent: 'AgentLambda',
  'web-consumer': 'WebConsumer',
  'telegram-consumer': 'TelegramConsumer',
  'discord-consumer': 'DiscordConsumer',
  'slack-consumer': 'SlackConsumer',
  'schedule-producer': 'ScheduleProducer',
  watchdog: 'RuntimeWatchdog',
  authorizer: 'WebAuthorizer',
  api: 'ApiMe',
  'web-producer': 'WebProducer',
  'telegram-producer': 'TelegramProducer',
  'discord-producer': 'DiscordProducer',
  'slack-producer': 'SlackProducer',
  history: 'HistoryConsumer',
};

/** The size of the web chat's page load: the bundle, the page and config.json (three requests). */
const PAGE_LOAD_GB = 40 / 1024 / 1024;
/** A MessageReceived in the archive, with its envelope. */
const ARCHIVED_EVENT_GB = 2 / 1024 / 1024;

/**
 * Prices one deployment for one month.
 * @example priceDeployment(buildInventory(stacks), parseUsageProfile(SCENARIOS.idle)).totalUsd
 */
export function priceDeployment(
  inventory: Inventory,
  profile: UsageProfile,
  options: PriceOptions = {},
): CostTable {
  const freeTier = options.freeTier ?? true;
  const lines: Omit<CostLine, 'usd'>[] = [];
  const add = (service: string, item: string, kind: CostLine['kind'], meter: MeterId, quantity: number) => {
    if (quantity > 0) lines.push({ service, item, kind, meter, quantity });
  };
  const monthly = (perDay: number) => perDay * DAYS_PER_MONTH;

  // Things with a monthly price of their own.
  add('CloudWatch', 'alarms', 'fixed', 'cloudwatch.alarmMetrics', inventory.alarmMetrics);
  add(
    'CloudWatch',
    'high-resolution alarms',
    'fixed',
    'cloudwatch.highResolutionAlarmMetrics',
    inventory.highResolutionAlarmMetrics,
  );
  add('CloudWatch', 'composite alarms', 'fixed', 'cloudwatch.compositeAlarms', inventory.compositeAlarms);
  add('CloudWatch', 'dashboards', 'fixed', 'cloudwatch.dashboards', inventory.dashboards);
  add('KMS', 'customer managed keys', 'fixed', 'kms.keys', inventory.kmsKeys);
  add('Secrets Manager', 'secrets', 'fixed', 'secretsmanager.secrets', inventory.secrets);
  add(
    'Systems Manager',
    'advanced parameters',
    'fixed',
    'ssm.advancedParameters',
    inventory.advancedParameters,
  );
  add('VPC', 'NAT gateways', 'fixed', 'vpc.natGatewayHours', inventory.natGateways * HOURS_PER_MONTH);
  add('VPC', 'Elastic IPs', 'fixed', 'vpc.publicIpv4Hours', inventory.elasticIps * HOURS_PER_MONTH);
  add(
    'VPC',
    'interface endpoints',
    'fixed',
    'vpc.endpointHours',
    inventory.interfaceEndpointAzs * HOURS_PER_MONTH,
  );
  add(
    'Elastic Load Balancing',
    'application load balancers',
    'fixed',
    'elb.albHours',
    inventory.applicationLoadBalancers * HOURS_PER_MONTH,
  );
  add(
    'Elastic Load Balancing',
    'network load balancers',
    'fixed',
    'elb.nlbHours',
    inventory.networkLoadBalancers * HOURS_PER_MONTH,
  );
  add(
    'Elastic Load Balancing',
    'classic load balancers',
    'fixed',
    'elb.classicHours',
    inventory.classicLoadBalancers * HOURS_PER_MONTH,
  );
  add('AWS Budgets', 'budgets', 'fixed', 'budgets.budgets', inventory.budgets);
  for (const pc of inventory.provisionedConcurrency) {
    const meter = pc.arch === 'arm64' ? 'lambda.provisionedGbSecondsArm' : 'lambda.provisionedGbSecondsX86';
    add(
      'Lambda',
      `provisioned concurrency ${pc.logicalId}`,
      'fixed',
      meter,
      pc.executions * (pc.memoryMb / 1024) * HOURS_PER_MONTH * 3600,
    );
  }
  for (const image of inventory.containerImages) {
    const gb = profile.imageGb[image.target ?? ''] ?? 0.25;
    add(
      'ECR',
      `image ${image.target ?? '(default target)'}`,
      'fixed',
      'ecr.storageGbMonths',
      gb * profile.retainedImageVersions,
    );
  }

  // Data at rest.
  for (const table of inventory.tables) {
    add('DynamoDB', 'table storage', 'fixed', 'dynamodb.storageGbMonths', profile.tableGb);
    if (table.pitr)
      add('DynamoDB', 'point-in-time recovery', 'fixed', 'dynamodb.pitrGbMonths', profile.tableGb);
  }
  const versioned = inventory.buckets.some((b) => b.versioned);
  // Each save is a new version; the lifecycle rules keep up to 5 old ones (infra/cdk/stacks/data-stack.ts).
  const stateCopies = versioned ? 6 : 1;
  add(
    'S3',
    'session state',
    'fixed',
    's3.storageGbMonths',
    (profile.users * profile.stateMb * stateCopies) / 1024,
  );
  if (inventory.distributions > 0) add('S3', 'web chat bundle', 'fixed', 's3.storageGbMonths', PAGE_LOAD_GB);

  // The watchdog (and any other scheduled function) runs whether or not anyone chats.
  let logBytes = 0;
  const fixedLogBytes = { value: 0 };
  const functionByName = (name: string): FunctionInfo =>
    inventory.functions.find((fn) => fn.name === name) ?? {
      stackName: '?',
      logicalId: `${name} (not in the templates)`,
      name,
      memoryMb: 256,
      arch: 'arm64',
      ephemeralMb: 512,
    };
  const invoke = (fn: FunctionInfo, kind: CostLine['kind'], invocations: number, seconds: number) => {
    if (invocations <= 0) return;
    const gbSeconds = invocations * seconds * (fn.memoryMb / 1024);
    add('Lambda', `${fn.name} requests`, kind, 'lambda.requests', invocations);
    add(
      'Lambda',
      `${fn.name} duration`,
      kind,
      fn.arch === 'arm64' ? 'lambda.gbSecondsArm' : 'lambda.gbSecondsX86',
      gbSeconds,
    );
    add(
      'Lambda',
      `${fn.name} ephemeral storage`,
      kind,
      'lambda.ephemeralGbSeconds',
      (invocations * seconds * Math.max(0, fn.ephemeralMb - 512)) / 1024,
    );
  };
  for (const rule of inventory.scheduledRules) {
    for (const target of rule.targets) {
      const fn = inventory.functions.find((f) => f.logicalId === target);
      if (!fn) continue;
      invoke(fn, 'fixed', rule.runsPerMonth, profile.watchdogMs / 1000);
      fixedLogBytes.value += rule.runsPerMonth * profile.logBytesPerInvocation;
      if (fn.name === FUNCTION_NAMES.watchdog)
        add('DynamoDB', 'watchdog reads', 'fixed', 'dynamodb.readRequestUnits', rule.runsPerMonth * 0.5);
    }
  }

  // Messages, by runtime.
  const messages = monthly(profile.messagesPerDay);
  const shares: [MessageRequests, number][] = [
    [messageRequests(profile, 'lambda'), messages * (1 - profile.fargateShare)],
    [messageRequests(profile, 'fargate'), messages * profile.fargateShare],
  ];
  let readUnits = 0;
  let writeUnits = 0;
  let events = 0;
  let webSocketMessages = 0;
  let httpRequests = 0;
  let s3Gets = 0;
  let s3Puts = 0;
  const invocations = new Map<string, { count: number; seconds: number }>();
  const call = (name: string, count: number, seconds = profile.handlerMs / 1000) => {
    const entry = invocations.get(name) ?? { count: 0, seconds: 0 };
    // Weighted mean duration over everything that invokes this function.
    entry.seconds = (entry.seconds * entry.count + seconds * count) / (entry.count + count || 1);
    entry.count += count;
    invocations.set(name, entry);
  };
  for (const [requests, count] of shares) {
    if (count <= 0) continue;
    for (const [target, n] of Object.entries(requests.invocations)) {
      if (!n) continue;
      if (target === 'producer') call(FUNCTION_NAMES[`${profile.channel}-producer`], n * count);
      else if (target === 'agent') call(FUNCTION_NAMES.agent, n * count, requests.agentSeconds);
      else call(FUNCTION_NAMES[target as TargetId], n * count);
    }
    readUnits += requests.readUnits * count;
    writeUnits += requests.writeUnits * count;
    events += requests.events * count;
    webSocketMessages += requests.webSocketMessages * count;
    httpRequests += requests.httpRequests * count;
    s3Gets += requests.s3Gets * count;
    s3Puts += requests.s3Puts * count;
  }
  // Web visits: $connect runs the authorizer and the producer, $disconnect the producer.
  const sessions = monthly(profile.webSessionsPerDay);
  call(FUNCTION_NAMES.authorizer, sessions);
  call(FUNCTION_NAMES['web-producer'], 2 * sessions);
  readUnits += sessions * 0.5;
  writeUnits += sessions * 4;
  // Management API calls.
  const apiCalls = monthly(profile.apiRequestsPerDay);
  call(FUNCTION_NAMES.api, apiCalls);
  httpRequests += apiCalls;
  readUnits += apiCalls * 0.5;
  writeUnits += apiCalls * 0.5;
  // Scheduled jobs: each fire is put on the bus by Scheduler and handled by the schedule producer (its
  // message is counted in messagesPerDay).
  const fires = monthly(profile.scheduleFiresPerDay);
  call(FUNCTION_NAMES['schedule-producer'], fires);
  events += fires;
  writeUnits += fires * 2;
  readUnits += fires * 0.5;
  add('EventBridge Scheduler', 'job fires', 'usage', 'scheduler.invocations', fires);
  // Fargate task starts: the state is restored once, the task's record moves through its states.
  const starts = monthly(profile.fargateStartsPerDay);
  s3Gets += starts;
  readUnits += starts * 1;
  writeUnits += starts * 5;
  events += starts; // "Waking up the agent…"

  for (const [name, { count, seconds }] of invocations) {
    invoke(functionByName(name), 'usage', count, seconds);
    logBytes +=
      count * (name === FUNCTION_NAMES.agent ? profile.logBytesPerTurn : profile.logBytesPerInvocation);
  }
  logBytes += messages * profile.fargateShare * profile.logBytesPerTurn;

  add('EventBridge', 'events put on the bus', 'usage', 'events.customEvents', events);
  const archived = inventory.archives.length > 0 ? messages * ARCHIVED_EVENT_GB : 0;
  add('EventBridge', 'archive (incoming messages)', 'usage', 'events.archiveGb', archived);
  for (const archive of inventory.archives)
    add(
      'EventBridge',
      'archive storage',
      'usage',
      'events.archiveStorageGbMonths',
      archived * Math.min(1, archive.retentionDays / 30),
    );
  add('DynamoDB', 'reads', 'usage', 'dynamodb.readRequestUnits', readUnits);
  add('DynamoDB', 'writes', 'usage', 'dynamodb.writeRequestUnits', writeUnits);
  add('S3', 'state restores (GET)', 'usage', 's3.getRequests', s3Gets);
  add('S3', 'state saves (PUT)', 'usage', 's3.putRequests', s3Puts);
  if (inventory.webSocketApis > 0) {
    add('API Gateway', 'WebSocket messages', 'usage', 'apigw.webSocketMessages', webSocketMessages);
    add(
      'API Gateway',
      'WebSocket connection minutes',
      'usage',
      'apigw.webSocketConnectionMinutes',
      sessions * profile.webSessionMinutes,
    );
  }
  if (inventory.httpApis > 0)
    add('API Gateway', 'HTTP API requests', 'usage', 'apigw.httpRequests', httpRequests);
  if (inventory.distributions > 0) {
    add('CloudFront', 'page loads (data out)', 'usage', 'cloudfront.dataOutGb', sessions * PAGE_LOAD_GB);
    add('CloudFront', 'page loads (requests)', 'usage', 'cloudfront.httpsRequests', sessions * 3);
  }
  for (const plan of inventory.userPools)
    if (plan.plan === 'LITE')
      add('Cognito', 'monthly active users', 'usage', 'cognito.liteMau', profile.monthlyActiveUsers);
    else if (profile.monthlyActiveUsers > 0)
      add(
        'Cognito',
        `monthly active users (${plan.plan}: priced as Lite)`,
        'usage',
        'cognito.liteMau',
        profile.monthlyActiveUsers,
      );

  // Fargate: the task's size from its task definition, and its public IPv4 address while it runs.
  const taskHours = monthly(profile.fargateHoursPerDay);
  for (const task of inventory.taskDefinitions) {
    add('Fargate', 'vCPU', 'usage', 'fargate.vcpuHoursArm', taskHours * task.vcpu);
    add('Fargate', 'memory', 'usage', 'fargate.gbHoursArm', taskHours * task.memoryGb);
    add('VPC', 'task public IPv4', 'usage', 'vpc.publicIpv4Hours', taskHours);
  }

  // Logs: ingestion, and what the log groups keep (most keep a month).
  const retention =
    inventory.logGroups.map((g) => g.retentionDays).sort((a, b) => a - b)[
      Math.floor(inventory.logGroups.length / 2)
    ] ?? 30;
  const gb = (bytes: number) => bytes / 1024 ** 3;
  add(
    'CloudWatch Logs',
    'ingestion (scheduled functions)',
    'fixed',
    'logs.ingestedGb',
    gb(fixedLogBytes.value),
  );
  add(
    'CloudWatch Logs',
    'storage (scheduled functions)',
    'fixed',
    'logs.storedGbMonths',
    gb(fixedLogBytes.value) * (retention / 30),
  );
  add('CloudWatch Logs', 'ingestion (messages)', 'usage', 'logs.ingestedGb', gb(logBytes));
  add(
    'CloudWatch Logs',
    'storage (messages)',
    'usage',
    'logs.storedGbMonths',
    gb(logBytes) * (retention / 30),
  );
  // Custom metrics (EMF) bill per metric-hour in which data arrives; the monitoring construct lists them.
  add(
    'CloudWatch',
    'custom metrics (EMF, metric-hours / 730)',
    'usage',
    'cloudwatch.customMetrics',
    monthly(metricHoursPerDay(profile)) / HOURS_PER_MONTH,
  );
  // X-Ray: one trace per invocation of a traced function (monitoring.tracing; the watchdog never is).
  let traces = 0;
  for (const [name, { count }] of invocations) if (functionByName(name).traced) traces += count;
  add('X-Ray', 'traces recorded', 'usage', 'xray.traces', traces);

  return finish(lines, profile, freeTier, inventory.unpriced);
}

/**
 * Metric-hours a day: each metric of `EXPECTED_METRICS` bills in the hours it receives data, which
 * differ per metric — the message metrics in every active hour, the agent's cold start only in hours with
 * a cold Lambda turn, errors only in hours with an error, the task metrics only while tasks run or stop.
 */
export function metricHoursPerDay(profile: UsageProfile): number {
  const active = profile.messagesPerDay > 0 ? Math.min(24, profile.activeHoursPerDay) : 0;
  const lambdaTurns = profile.messagesPerDay * (1 - profile.fargateShare);
  const hours = (events: number) => Math.min(active, events);
  let total = 0;
  for (const metric of EXPECTED_METRICS) {
    if (metric.name === 'ColdStart' && metric.service === 'agent')
      total += hours(lambdaTurns * profile.agentColdStartShare);
    else if (metric.name === 'TurnErrors') total += hours(profile.messagesPerDay * profile.turnErrorShare);
    else if (metric.name === 'FargateTaskSeconds') total += Math.min(24, profile.fargateStartsPerDay);
    else if (metric.name === 'OldestTaskAgeSeconds')
      total += Math.min(24, Math.ceil(profile.fargateHoursPerDay));
    // Messages, latency, tokens, cost, and the small handlers' cold starts: every active hour.
    else total += active;
  }
  return total;
}

/** Applies the free tier per meter (or shared pool) and prices every line. */
function finish(
  lines: Omit<CostLine, 'usd'>[],
  profile: UsageProfile,
  freeTier: boolean,
  unpriced: string[],
): CostTable {
  const poolOf = (meter: MeterId) => (PRICES[meter] as { freePool?: string }).freePool ?? meter;
  const used = new Map<string, number>();
  for (const line of lines) used.set(poolOf(line.meter), (used.get(poolOf(line.meter)) ?? 0) + line.quantity);
  const priced = lines.map((line): CostLine => {
    const price = PRICES[line.meter] as { usd: number; free?: number };
    const total = used.get(poolOf(line.meter)) ?? 0;
    const billable = freeTier && price.free ? Math.max(0, total - price.free) / total : 1;
    return { ...line, usd: line.quantity * price.usd * billable };
  });
  const sum = (kind?: CostLine['kind']) =>
    priced.filter((l) => !kind || l.kind === kind).reduce((s, l) => s + l.usd, 0);
  return {
    profile,
    freeTier,
    lines: priced,
    fixedUsd: sum('fixed'),
    usageUsd: sum('usage'),
    totalUsd: sum(),
    unpriced: [...new Set(unpriced)],
  };
}
