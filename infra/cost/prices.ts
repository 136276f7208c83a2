/**
 * AWS list prices in us-east-1 that the cost model uses, one meter a line with the page it comes from.
 *
 * They were NOT fetched (the model runs offline): they are the list prices as known on `PRICE_DATE`.
 * Check them against the AWS price list (the URLs below, or `aws pricing get-products`) before relying on
 * a number; change a price here and every table follows.
 */

/** The date the prices below describe. */
export const PRICE_DATE = '2025-06-01';
export const PRICE_REGION = 'us-east-1';

/** Average hours in a month, as AWS's own calculator counts (8,760 / 12). */
export const HOURS_PER_MONTH = 730;
/** Days in that average month. */
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

export interface Price {
  /** USD per one `unit`. */
  usd: number;
  unit: string;
  /**
   * What AWS's always-free tier gives every account each month, in `unit`s (not the 12-month trial
   * for new accounts). Meters with the same `freePool` share one allowance.
   * @default 0
   */
  free?: number;
  /** Meters that draw on one free allowance (Lambda's 400,000 GB-s covers both architectures). */
  freePool?: string;
  source: string;
}

const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const VPC = 'https://aws.amazon.com/vpc/pricing/';

/** Every meter the model can bill, keyed by a stable id. */
export const PRICES = {
  'lambda.requests': { usd: 0.2e-6, unit: 'request', free: 1_000_000, source: LAMBDA },
  'lambda.gbSecondsArm': {
    usd: 0.0000133334,
    unit: 'GB-second',
    free: 400_000,
    freePool: 'lambda.gbSeconds',
    source: LAMBDA,
  },
  'lambda.gbSecondsX86': {
    usd: 0.0000166667,
    unit: 'GB-second',
    free: 400_000,
    freePool: 'lambda.gbSeconds',
    source: LAMBDA,
  },
  // The x86 rate; applied to ARM functions too, as an upper bound.
  'lambda.ephemeralGbSeconds': { usd: 0.0000000309, unit: 'GB-second above 512 MB', source: LAMBDA },
  'lambda.provisionedGbSecondsArm': { usd: 0.0000033334, unit: 'GB-second provisioned', source: LAMBDA },
  'lambda.provisionedGbSecondsX86': { usd: 0.0000041667, unit: 'GB-second provisioned', source: LAMBDA },

  'fargate.vcpuHoursArm': {
    usd: 0.03238,
    unit: 'vCPU-hour',
    source: 'https://aws.amazon.com/fargate/pricing/',
  },
  'fargate.gbHoursArm': { usd: 0.00356, unit: 'GB-hour', source: 'https://aws.amazon.com/fargate/pricing/' },
  'vpc.publicIpv4Hours': {
    usd: 0.005,
    unit: 'public IPv4 address-hour',
    source: 'https://aws.amazon.com/vpc/pricing/#Public_IPv4_Addresses',
  },
  'vpc.natGatewayHours': { usd: 0.045, unit: 'NAT gateway-hour', source: VPC },
  'vpc.endpointHours': {
    usd: 0.01,
    unit: 'interface endpoint-hour per AZ',
    source: 'https://aws.amazon.com/privatelink/pricing/',
  },
  'elb.albHours': {
    usd: 0.0225,
    unit: 'ALB-hour',
    source: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  },
  'elb.nlbHours': {
    usd: 0.0225,
    unit: 'NLB-hour',
    source: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  },
  'elb.classicHours': {
    usd: 0.025,
    unit: 'CLB-hour',
    source: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  },

  'apigw.webSocketMessages': {
    usd: 1e-6,
    unit: 'WebSocket message (32 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  'apigw.webSocketConnectionMinutes': {
    usd: 0.25e-6,
    unit: 'connection-minute',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  'apigw.httpRequests': {
    usd: 1e-6,
    unit: 'HTTP API request (512 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  'apigw.restRequests': {
    usd: 3.5e-6,
    unit: 'REST API request',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },

  'events.customEvents': {
    usd: 1e-6,
    unit: 'custom event (64 KB)',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  'events.archiveGb': {
    usd: 0.1,
    unit: 'GB archived',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  'events.archiveStorageGbMonths': {
    usd: 0.023,
    unit: 'GB-month archive storage',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  'scheduler.invocations': {
    usd: 1e-6,
    unit: 'schedule invocation',
    free: 14_000_000,
    source: 'https://aws.amazon.com/eventbridge/pricing/#Scheduler',
  },

  // On-demand request units after the November 2024 price cut.
  'dynamodb.writeRequestUnits': {
    usd: 0.625e-6,
    unit: 'write request unit',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  'dynamodb.readRequestUnits': {
    usd: 0.125e-6,
    unit: 'read request unit',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  'dynamodb.storageGbMonths': {
    usd: 0.25,
    unit: 'GB-month',
    free: 25,
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  'dynamodb.pitrGbMonths': {
    usd: 0.2,
    unit: 'GB-month continuous backup',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },

  's3.storageGbMonths': {
    usd: 0.023,
    unit: 'GB-month (Standard)',
    source: 'https://aws.amazon.com/s3/pricing/',
  },
  's3.putRequests': {
    usd: 0.005e-3,
    unit: 'PUT/POST/LIST request',
    source: 'https://aws.amazon.com/s3/pricing/',
  },
  's3.getRequests': { usd: 0.0004e-3, unit: 'GET request', source: 'https://aws.amazon.com/s3/pricing/' },

  'ecr.storageGbMonths': {
    usd: 0.1,
    unit: 'GB-month (private repository)',
    source: 'https://aws.amazon.com/ecr/pricing/',
  },

  'cloudwatch.alarmMetrics': { usd: 0.1, unit: 'standard alarm metric-month', free: 10, source: CLOUDWATCH },
  'cloudwatch.highResolutionAlarmMetrics': {
    usd: 0.3,
    unit: 'high-resolution alarm metric-month',
    source: CLOUDWATCH,
  },
  'cloudwatch.compositeAlarms': { usd: 0.5, unit: 'composite alarm-month', source: CLOUDWATCH },
  'cloudwatch.dashboards': { usd: 3, unit: 'dashboard-month', free: 3, source: CLOUDWATCH },
  // Prorated by the hour: a metric emitted in only some hours costs that share of a month.
  'cloudwatch.customMetrics': { usd: 0.3, unit: 'custom metric-month', free: 10, source: CLOUDWATCH },
  'xray.traces': {
    usd: 0.000005,
    unit: 'trace recorded',
    free: 100_000,
    source: 'https://aws.amazon.com/xray/pricing/',
  },
  'logs.ingestedGb': { usd: 0.5, unit: 'GB ingested', free: 5, freePool: 'logs.data', source: CLOUDWATCH },
  'logs.storedGbMonths': {
    usd: 0.03,
    unit: 'GB-month stored',
    free: 5,
    freePool: 'logs.storage',
    source: CLOUDWATCH,
  },

  'sqs.requests': {
    usd: 0.4e-6,
    unit: 'request (64 KB)',
    free: 1_000_000,
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  'sns.emailNotifications': {
    usd: 2e-5,
    unit: 'e-mail notification',
    free: 1_000,
    source: 'https://aws.amazon.com/sns/pricing/',
  },

  'kms.keys': { usd: 1, unit: 'customer managed key-month', source: 'https://aws.amazon.com/kms/pricing/' },
  'secretsmanager.secrets': {
    usd: 0.4,
    unit: 'secret-month',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
  },
  'ssm.advancedParameters': {
    usd: 0.05,
    unit: 'advanced parameter-month',
    source: 'https://aws.amazon.com/systems-manager/pricing/',
  },

  // Lite plan: 10,000 monthly active users free, then per MAU.
  'cognito.liteMau': {
    usd: 0.0055,
    unit: 'monthly active user (Lite)',
    free: 10_000,
    source: 'https://aws.amazon.com/cognito/pricing/',
  },
  'cloudfront.dataOutGb': {
    usd: 0.085,
    unit: 'GB out (North America)',
    free: 1_024,
    source: 'https://aws.amazon.com/cloudfront/pricing/',
  },
  'cloudfront.httpsRequests': {
    usd: 0.01e-4,
    unit: 'HTTPS request',
    free: 10_000_000,
    source: 'https://aws.amazon.com/cloudfront/pricing/',
  },
  // Budgets with notifications only; the first two are free, then $0.02 a day each.
  'budgets.budgets': {
    usd: 0.02 * DAYS_PER_MONTH,
    unit: 'budget-month',
    free: 2,
    source: 'https://aws.amazon.com/aws-cost-management/aws-budgets/pricing/',
  },
} as const satisfies Record<string, Price>;

export type MeterId = keyof typeof PRICES;
