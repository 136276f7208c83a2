/**
 * Walks every resource of every synthesized CloudFormation template and sorts it into what the cost
 * model prices: things with a monthly price of their own (alarms, NAT gateways, keys…), things billed by
 * use (functions, APIs, tables…), and things AWS does not bill at all (roles, subnets, rules…). A type in
 * none of these lists is reported as unpriced, so a new kind of resource cannot slip past the model.
 */

/** One stack's template, as `cdk synth` writes it (`<stack>.template.json`). */
export interface StackTemplate {
  stackName: string;
  template: { Resources?: Record<string, CfnResource> };
}

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** A container image CDK pushes to its ECR assets repository (from `<stack>.assets.json`). */
export interface ContainerImageAsset {
  stackName: string;
  /** The Dockerfile's build target, e.g. `lambda` or `fargate`. */
  target?: string;
}

export interface FunctionInfo {
  stackName: string;
  logicalId: string;
  /** The construct id the logical id was made from (its hash removed), e.g. `RuntimeWatchdog`. */
  name: string;
  memoryMb: number;
  arch: 'arm64' | 'x86_64';
  /** /tmp size; above 512 MB it is billed. */
  ephemeralMb: number;
  /** X-Ray active tracing: each traced invocation records a trace. */
  traced?: boolean;
}

export interface Inventory {
  functions: FunctionInfo[];
  /** Provisioned concurrency on versions or aliases: billed every hour it exists. */
  provisionedConcurrency: {
    logicalId: string;
    executions: number;
    memoryMb: number;
    arch: FunctionInfo['arch'];
  }[];
  /** Metrics watched by standard-resolution alarms (a metric-math alarm bills each metric it reads). */
  alarmMetrics: number;
  highResolutionAlarmMetrics: number;
  compositeAlarms: number;
  dashboards: number;
  kmsKeys: number;
  secrets: number;
  advancedParameters: number;
  natGateways: number;
  applicationLoadBalancers: number;
  networkLoadBalancers: number;
  classicLoadBalancers: number;
  /** Elastic IPs: billed by the hour like any public IPv4 address. */
  elasticIps: number;
  /** Interface VPC endpoints, counted per subnet (AZ) they sit in. */
  interfaceEndpointAzs: number;
  logGroups: { logicalId: string; retentionDays: number }[];
  archives: { retentionDays: number }[];
  tables: { pitr: boolean }[];
  buckets: { versioned: boolean }[];
  userPools: { plan: string }[];
  distributions: number;
  webSocketApis: number;
  httpApis: number;
  restApis: number;
  taskDefinitions: { vcpu: number; memoryGb: number; arch: FunctionInfo['arch'] }[];
  /** Rules that run on a schedule, with their rate in runs a month (EventBridge does not bill them). */
  scheduledRules: { logicalId: string; runsPerMonth: number; targets: string[] }[];
  budgets: number;
  containerImages: ContainerImageAsset[];
  /** Resource types the model does not know: priced at nothing, and listed so someone adds them. */
  unpriced: string[];
}

/** Types AWS does not bill for by themselves (their use is billed elsewhere, or not at all). */
export const FREE_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::LayerVersion',
  'AWS::Lambda::EventSourceMapping',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::RouteResponse',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::ApiGatewayV2::Stage',
  'AWS::ApiGatewayV2::Deployment',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::Route',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  // Billed as the logs it writes (a vended-log ingestion line); nothing flows while no task runs.
  'AWS::EC2::FlowLog',
  'AWS::ECS::Cluster',
  // Free: the metrics they publish are the EMF metrics the model already counts (model.ts).
  'AWS::Logs::MetricFilter',
  'AWS::ECS::ClusterCapacityProviderAssociations',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::Scheduler::ScheduleGroup',
  // Queues and topics bill per request only; a dead-letter queue nobody polls costs nothing.
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::S3::BucketPolicy',
  'AWS::Cognito::UserPoolClient',
  'AWS::Cognito::UserPoolDomain',
  'AWS::CloudFront::OriginAccessControl',
  'AWS::CloudFront::ResponseHeadersPolicy',
  'AWS::CloudFront::CachePolicy',
  // Standard SSM parameters are free (advanced ones are counted below).
  'AWS::SSM::Parameter',
  'AWS::CDK::Metadata',
]);

/** Custom resources (CDK's bucket deployment, auto-delete): their Lambda runs at deploy time only. */
const isCustomResource = (type: string) =>
  type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

const asNumber = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
const count = (value: unknown) => (Array.isArray(value) ? value.length : 1);

/** How many times a month `rate(...)` or `cron(...)` fires; cron is approximated as once a day or more. */
export function runsPerMonth(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!.replace(/s$/, '');
    const perHour = unit === 'minute' ? 60 / n : unit === 'hour' ? 1 / n : 1 / (24 * n);
    return perHour * 730;
  }
  // cron(min hour ...): a `*` or `/` in the minute or hour field runs more than daily.
  const cron = /^cron\((\S+) (\S+) /.exec(expression);
  if (cron) {
    const [, minute, hour] = cron;
    const perDay = (minute!.includes('*') || minute!.includes('/') ? 60 : 1) * (hour!.includes('*') ? 24 : 1);
    return perDay * (730 / 24);
  }
  return 0;
}

/** The construct id behind a logical id: CDK appends an 8-hex-digit hash of the construct path. */
export const constructName = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/** Alarm metrics: one for a plain metric alarm, one per `MetricStat` of a metric-math alarm. */
function alarmMetricCount(properties: Record<string, unknown>): number {
  const metrics = properties.Metrics as { MetricStat?: unknown }[] | undefined;
  if (!metrics) return 1;
  return metrics.filter((metric) => metric.MetricStat !== undefined).length;
}

function alarmPeriod(properties: Record<string, unknown>): number {
  const metrics = properties.Metrics as { MetricStat?: { Period?: number } }[] | undefined;
  const periods = metrics?.map((m) => m.MetricStat?.Period).filter((p) => p !== undefined) ?? [];
  return Math.min(asNumber(properties.Period, 60), ...periods);
}

/**
 * Sorts every resource of `stacks` into an `Inventory`.
 * @example buildInventory([{ stackName: 'app', template: JSON.parse(readFileSync('cdk.out/app.template.json', 'utf8')) }])
 */
export function buildInventory(
  stacks: StackTemplate[],
  containerImages: ContainerImageAsset[] = [],
): Inventory {
  const inventory: Inventory = {
    functions: [],
    provisionedConcurrency: [],
    alarmMetrics: 0,
    highResolutionAlarmMetrics: 0,
    compositeAlarms: 0,
    dashboards: 0,
    kmsKeys: 0,
    secrets: 0,
    advancedParameters: 0,
    natGateways: 0,
    applicationLoadBalancers: 0,
    networkLoadBalancers: 0,
    classicLoadBalancers: 0,
    elasticIps: 0,
    interfaceEndpointAzs: 0,
    logGroups: [],
    archives: [],
    tables: [],
    buckets: [],
    userPools: [],
    distributions: 0,
    webSocketApis: 0,
    httpApis: 0,
    restApis: 0,
    taskDefinitions: [],
    scheduledRules: [],
    budgets: 0,
    containerImages,
    unpriced: [],
  };
  for (const { stackName, template } of stacks) {
    const resources = template.Resources ?? {};
    const functionOf = (ref: unknown) => {
      const id = (ref as { Ref?: string } | undefined)?.Ref;
      return inventory.functions.find((fn) => fn.stackName === stackName && fn.logicalId === id);
    };
    // Functions first: provisioned concurrency refers to them.
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const p = resource.Properties ?? {};
      inventory.functions.push({
        stackName,
        logicalId,
        name: constructName(logicalId),
        memoryMb: asNumber(p.MemorySize, 128),
        arch: (p.Architectures as string[] | undefined)?.[0] === 'arm64' ? 'arm64' : 'x86_64',
        ephemeralMb: asNumber((p.EphemeralStorage as { Size?: number } | undefined)?.Size, 512),
        traced: (p.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
      });
    }
    for (const [logicalId, resource] of Object.entries(resources)) {
      const p = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::Lambda::Function':
          break;
        case 'AWS::Lambda::Version':
        case 'AWS::Lambda::Alias': {
          const executions = (p.ProvisionedConcurrencyConfig as { ProvisionedConcurrentExecutions?: number })
            ?.ProvisionedConcurrentExecutions;
          const fn = functionOf(p.FunctionName);
          if (executions)
            inventory.provisionedConcurrency.push({
              logicalId,
              executions,
              memoryMb: fn?.memoryMb ?? 128,
              arch: fn?.arch ?? 'x86_64',
            });
          break;
        }
        case 'AWS::CloudWatch::Alarm':
          if (alarmPeriod(p) < 60) inventory.highResolutionAlarmMetrics += alarmMetricCount(p);
          else inventory.alarmMetrics += alarmMetricCount(p);
          break;
        case 'AWS::CloudWatch::CompositeAlarm':
          inventory.compositeAlarms += 1;
          break;
        case 'AWS::CloudWatch::Dashboard':
          inventory.dashboards += 1;
          break;
        case 'AWS::KMS::Key':
          inventory.kmsKeys += 1;
          break;
        case 'AWS::SecretsManager::Secret':
          inventory.secrets += 1;
          break;
        case 'AWS::SSM::Parameter':
          if (p.Tier === 'Advanced') inventory.advancedParameters += 1;
          break;
        case 'AWS::EC2::NatGateway':
          inventory.natGateways += 1;
          break;
        case 'AWS::EC2::EIP':
          inventory.elasticIps += 1;
          break;
        case 'AWS::EC2::VPCEndpoint':
          if (p.VpcEndpointType === 'Interface') inventory.interfaceEndpointAzs += count(p.SubnetIds);
          break;
        case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
          if (p.Type === 'network') inventory.networkLoadBalancers += 1;
          else inventory.applicationLoadBalancers += 1;
          break;
        case 'AWS::ElasticLoadBalancing::LoadBalancer':
          inventory.classicLoadBalancers += 1;
          break;
        case 'AWS::Logs::LogGroup':
          // No retention means kept forever; a year stands in for "growing".
          inventory.logGroups.push({ logicalId, retentionDays: asNumber(p.RetentionInDays, 365) });
          break;
        case 'AWS::Events::Archive':
          inventory.archives.push({ retentionDays: asNumber(p.RetentionDays, 365) });
          break;
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable': {
          const replicas =
            (p.Replicas as {
              PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled?: boolean };
            }[]) ?? [];
          const own = p.PointInTimeRecoverySpecification as
            | { PointInTimeRecoveryEnabled?: boolean }
            | undefined;
          const pitr =
            own?.PointInTimeRecoveryEnabled === true ||
            replicas.some((r) => r.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true);
          // A provisioned-capacity table would bill every hour; the app only creates on-demand ones.
          if (p.BillingMode === 'PROVISIONED')
            inventory.unpriced.push(`${resource.Type} (provisioned capacity)`);
          inventory.tables.push({ pitr });
          break;
        }
        case 'AWS::S3::Bucket':
          inventory.buckets.push({
            versioned: (p.VersioningConfiguration as { Status?: string } | undefined)?.Status === 'Enabled',
          });
          break;
        case 'AWS::Cognito::UserPool':
          inventory.userPools.push({ plan: String(p.UserPoolTier ?? 'ESSENTIALS') });
          break;
        case 'AWS::CloudFront::Distribution':
          inventory.distributions += 1;
          break;
        case 'AWS::ApiGatewayV2::Api':
          if (p.ProtocolType === 'WEBSOCKET') inventory.webSocketApis += 1;
          else inventory.httpApis += 1;
          break;
        case 'AWS::ApiGateway::RestApi':
          inventory.restApis += 1;
          break;
        case 'AWS::ECS::TaskDefinition':
          inventory.taskDefinitions.push({
            vcpu: Number(p.Cpu ?? 256) / 1024,
            memoryGb: Number(p.Memory ?? 512) / 1024,
            arch:
              (p.RuntimePlatform as { CpuArchitecture?: string } | undefined)?.CpuArchitecture === 'ARM64'
                ? 'arm64'
                : 'x86_64',
          });
          break;
        case 'AWS::Budgets::Budget':
          inventory.budgets += 1;
          break;
        default:
          if (resource.Type === 'AWS::Events::Rule' && typeof p.ScheduleExpression === 'string') {
            const targets = ((p.Targets as { Arn?: { 'Fn::GetAtt'?: string[] } }[]) ?? []).map(
              (t) => t.Arn?.['Fn::GetAtt']?.[0] ?? '?',
            );
            inventory.scheduledRules.push({
              logicalId,
              runsPerMonth: runsPerMonth(p.ScheduleExpression),
              targets,
            });
          }
          if (!FREE_TYPES.has(resource.Type) && !isCustomResource(resource.Type))
            inventory.unpriced.push(resource.Type);
      }
    }
  }
  return inventory;
}
