import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, TARGETS, type TargetId } from '../../bus/routing-table.ts';
import { createOpenClawApp, type OpenClawApp } from './app.ts';
import { DeploymentConfigSchema } from './config.ts';
import type { ChatChannel, ChatChannelName } from './constructs/chat-channel.ts';
import { logicalIdIn, routeBothWays } from './test-support.ts';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

/** What each channel's lambda.ts reads, and the SSM secrets it reads (docs/channels/*.md). */
const EXPECTED: Record<
  ChatChannelName,
  {
    producer: { environment: Record<string, unknown>; secrets: string[] };
    consumer: { secrets: string[] };
  }
> = {
  telegram: {
    producer: {
      environment: {
        ALLOWED_USERS: 'telegram:42,telegram:43',
        WEB_APP_URL: 'https://chat.example.com',
        TELEGRAM_BOT_USERNAME: 'my_openclaw_bot',
        DEFAULT_RUNTIME: 'auto',
        OPENCLAW_LLM_PROVIDER: 'anthropic',
        OPENCLAW_LLM_API: 'anthropic-messages',
        OPENCLAW_LLM_MODEL: 'claude-sonnet-4-5',
        OPENCLAW_LLM_BASE_URL: 'https://api.anthropic.com',
        OPENCLAW_LLM_API_KEY_REF: 'ANTHROPIC_API_KEY',
      },
      secrets: ['TELEGRAM_WEBHOOK_SECRET'],
    },
    consumer: { secrets: ['TELEGRAM_BOT_TOKEN'] },
  },
  discord: {
    producer: {
      environment: { ALLOWED_USERS: 'discord:123456789012345678', WEB_APP_URL: 'https://chat.example.com' },
      secrets: ['DISCORD_PUBLIC_KEY'],
    },
    consumer: { secrets: ['DISCORD_BOT_TOKEN'] },
  },
  slack: {
    producer: {
      environment: { ALLOWED_USERS: 'slack:U0123ABCD', SLACK_COMMAND: '/claw', SLACK_BOT_USER_ID: 'U0BOT' },
      secrets: ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN'],
    },
    consumer: { secrets: ['SLACK_BOT_TOKEN'] },
  },
};
const CHANNELS = Object.keys(EXPECTED) as ChatChannelName[];

describe('the chat channels, all three enabled (synthesized offline)', () => {
  let outdir: string;
  let stacks: OpenClawApp;
  let template: Template;
  const resources = () => template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) =>
    Object.entries(resources())
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => ({ id, ...r }));
  const logicalIdOf = (construct: IConstruct) => logicalIdIn(stacks.main, construct);
  const channel = (name: ChatChannelName): ChatChannel => {
    const found = stacks.main.chatChannels.find((c) => c.channel === name);
    expect(found, name).toBeDefined();
    return found!;
  };
  /** The statements of the inline policies of one function's role. */
  const statementsOf = (fn: IConstruct & { role?: IConstruct }): Statement[] => {
    const role = JSON.stringify([{ Ref: logicalIdOf(fn.role!) }]);
    return ofType('AWS::IAM::Policy')
      .filter((p) => JSON.stringify(p.Properties?.Roles) === role)
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
  };
  const withAction = (statements: Statement[], action: string) =>
    statements.filter((statement) => [statement.Action].flat().includes(action));
  const environmentOf = (fn: IConstruct) =>
    (resources()[logicalIdOf(fn)]!.Properties!.Environment as { Variables: Record<string, unknown> })
      .Variables;
  const parameterArn = (name: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':ssm:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:parameter/serverless-openclaw/prod/${name}`,
      ],
    ],
  });

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'openclaw-cdk-channels-'));
    const config = DeploymentConfigSchema.parse({
      channels: { telegram: true, discord: true, slack: true },
      defaultRuntime: 'auto',
      allowedUsers: ['telegram:42', 'discord:123456789012345678', 'telegram:43', 'slack:U0123ABCD'],
      webAppUrl: 'https://chat.example.com',
      telegram: { botUsername: 'my_openclaw_bot' },
      slack: { command: '/claw', botUserId: 'U0BOT' },
    });
    stacks = await createOpenClawApp(config, outdir);
    // app.synth() runs the cdk-nag AwsSolutions checks: any unacknowledged finding throws here.
    stacks.app.synth();
    template = Template.fromStack(stacks.main);
  }, 120_000);
  afterAll(() => rm(outdir, { recursive: true, force: true }));

  it('deploys the three channels', () => {
    expect(stacks.main.chatChannels.map((c) => c.channel)).toEqual(CHANNELS);
  });

  describe.each(CHANNELS)('%s', (name) => {
    it('has a POST /webhooks route without authorizer, to its producer, on the throttled stage', () => {
      const route = ofType('AWS::ApiGatewayV2::Route').find(
        (r) => r.Properties?.RouteKey === `POST /webhooks/${name}`,
      );
      expect(route?.id).toBe(logicalIdOf(channel(name).webhookRoute));
      expect(route?.Properties?.AuthorizationType).toBe('NONE');
      expect(route?.Properties?.AuthorizerId).toBeUndefined();
      const integrationId = JSON.stringify(route?.Properties?.Target).match(/"Ref":"([^"]+)"/)?.[1];
      expect(resources()[integrationId!]?.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalIdOf(channel(name).producer), 'Arn'] },
      });
      const output = `${name[0]!.toUpperCase()}${name.slice(1)}WebhookUrl`;
      template.hasOutput(output, {
        Value: {
          'Fn::Join': [
            '',
            [{ 'Fn::GetAtt': [logicalIdOf(stacks.main.httpApi.api), 'ApiEndpoint'] }, `/webhooks/${name}`],
          ],
        },
      });
      // One stage per API, both throttled: the webhooks share the HTTP API's limits.
      for (const stage of ofType('AWS::ApiGatewayV2::Stage')) {
        expect(stage.Properties?.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 20 });
      }
    });

    it('runs its producer and consumer from their lambda.ts with what those files read', () => {
      const { producer, consumer } = channel(name);
      const producerFn = resources()[logicalIdOf(producer)]!.Properties!;
      const consumerFn = resources()[logicalIdOf(consumer)]!.Properties!;
      expect(producerFn).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x', MemorySize: 512 });
      // Rate limits are waited out inline; Discord's consumer needs at least 30 s.
      expect(consumerFn).toMatchObject({ Handler: 'index.handler', Timeout: 60 });
      const table = { 'Fn::ImportValue': expect.stringContaining('openclaw-prod-data:') };
      const common = {
        NODE_OPTIONS: '--enable-source-maps',
        TABLE_NAME: table,
        SECRETS_PREFIX: '/serverless-openclaw/prod/',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Every function's (constructs/monitoring.ts).
        POWERTOOLS_METRICS_NAMESPACE: 'ServerlessOpenClaw/prod',
        POWERTOOLS_TRACE_ENABLED: 'false',
      };
      expect(environmentOf(producer)).toEqual({
        ...common,
        POWERTOOLS_SERVICE_NAME: `${name}-producer`,
        EVENT_BUS_NAME: { Ref: logicalIdOf(stacks.main.eventRouting.bus) },
        ...EXPECTED[name].producer.environment,
        // For `/schedule` (producers/schedule/job-store-from-env.ts).
        SCHEDULE_GROUP_NAME: expect.anything(),
        EVENT_BUS_ARN: expect.anything(),
        SCHEDULER_ROLE_ARN: expect.anything(),
        SCHEDULE_DLQ_ARN: expect.anything(),
      });
      expect(environmentOf(consumer)).toEqual({
        ...common,
        POWERTOOLS_SERVICE_NAME: `${name}-consumer`,
        // Reply images (consumers/shared/reply-images.ts, read by the lambda.ts when it is set).
        STATE_BUCKET: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      });
    });

    it('sends its replies to the consumer by the routing table’s rule, with a dead-letter queue and an alarm', () => {
      const route = ROUTES.find((r) => r.target === `${name}-consumer`);
      expect(route?.name).toBe(`${name}-replies-to-${name}-consumer`);
      const rules = ofType('AWS::Events::Rule').filter(
        (r) => JSON.stringify(r.Properties?.EventPattern) === JSON.stringify(route!.pattern),
      );
      expect(rules).toHaveLength(1);
      const queue = stacks.main.eventRouting.deadLetterQueues[`${name}-consumer`]!;
      expect(rules[0]!.Properties?.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [logicalIdOf(channel(name).consumer), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(queue), 'Arn'] } },
          RetryPolicy: expect.objectContaining({
            MaximumRetryAttempts: route!.delivery.maximumRetryAttempts,
          }),
        }),
      ]);
      expect(
        ofType('AWS::Lambda::EventInvokeConfig').find(
          (c) =>
            JSON.stringify(c.Properties?.FunctionName) ===
            JSON.stringify({ Ref: logicalIdOf(channel(name).consumer) }),
        )?.Properties,
      ).toMatchObject({
        MaximumRetryAttempts: TARGETS[`${name}-consumer`].retryAttempts,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(queue), 'Arn'] } } },
      });
    });

    it.each(['producer', 'consumer'] as const)(
      'lets the %s read exactly its own secrets, no wildcard',
      (kind) => {
        const statements = withAction(statementsOf(channel(name)[kind]), 'ssm:GetParameter');
        expect(statements).toHaveLength(1);
        const secrets = EXPECTED[name][kind].secrets;
        expect([statements[0]!.Resource].flat()).toEqual(secrets.map(parameterArn));
        expect(JSON.stringify(statements)).not.toContain('*');
        // No KMS grant: the AWS-managed aws/ssm key lets SSM decrypt for the account's principals.
        expect(JSON.stringify(statementsOf(channel(name)[kind]))).not.toContain('kms:');
      },
    );

    it.each(['producer', 'consumer'] as const)('gives the %s item operations on the table only', (kind) => {
      const statements = statementsOf(channel(name)[kind]).filter((s) =>
        [s.Action].flat().some((action) => action.startsWith('dynamodb:')),
      );
      expect(statements).toEqual([
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Effect: 'Allow',
          Resource: { 'Fn::ImportValue': expect.stringContaining('openclaw-prod-data:') },
        },
        // The producer's `/schedules` lists the user's jobs.
        ...(kind === 'producer'
          ? [
              {
                Action: 'dynamodb:Query',
                Effect: 'Allow',
                Resource: { 'Fn::ImportValue': expect.stringContaining('openclaw-prod-data:') },
              },
            ]
          : []),
      ]);
    });

    it('lets the producer publish under its own source only, and the consumer not at all', () => {
      expect(withAction(statementsOf(channel(name).producer), 'events:PutEvents')).toEqual([
        {
          Action: 'events:PutEvents',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logicalIdOf(stacks.main.eventRouting.bus), 'Arn'] },
          Condition: { StringEquals: { 'events:source': `openclaw.${name}` } },
        },
      ]);
      expect(withAction(statementsOf(channel(name).consumer), 'events:PutEvents')).toEqual([]);
    });
  });

  it('routes sample events to the same targets as the local bus does, consumers of every channel included', async () => {
    // Act
    const { viaAws, viaLocal } = await routeBothWays(stacks.main, template, {
      'runtime-selector': stacks.main.runtimeSelector,
      agent: stacks.main.agentRuntime.lambda,
      'web-consumer': stacks.main.node.findChild('WebConsumer'),
      'schedule-producer': stacks.main.scheduleProducer,
      history: stacks.main.historyConsumer,
      ...Object.fromEntries(stacks.main.chatChannels.map((c) => [c.targetId, c.consumer])),
    });

    // Assess
    expect(viaAws.flat()).not.toContain(undefined);
    expect(viaAws).toEqual(viaLocal);
    for (const target of ['telegram-consumer', 'discord-consumer', 'slack-consumer'] as TargetId[]) {
      // Delta, completed and status, for that channel only; the completed reply also to the history.
      const hits = viaAws.filter((targets) => targets.includes(target));
      expect(hits.map((targets) => targets.filter((t) => t !== 'history'))).toEqual([
        [target],
        [target],
        [target],
      ]);
      expect(hits.filter((targets) => targets.includes('history'))).toHaveLength(1);
    }
  });

  it('gives every target a dead-letter queue and an alarm, and no rule lacks a target', () => {
    expect(Object.keys(stacks.main.eventRouting.deadLetterQueues).sort()).toEqual(
      Object.keys(TARGETS).sort(),
    );
    // Every target's queue, plus the schedule fires' queue, the watchdog's error alarm and monitoring's two.
    template.resourceCountIs('AWS::CloudWatch::Alarm', Object.keys(TARGETS).length + 2 + 2);
    expect(stacks.main.eventRouting.deployedRoutes).toEqual(ROUTES);
  });

  it('still puts the management routes behind the JWT authorizer', () => {
    for (const key of ['GET /v1/me', 'POST /v1/link-codes']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'JWT' });
    }
  });

  it('acknowledges the missing authorizer on the webhook routes only, each with its reason', () => {
    const acknowledgedAPIG4 = stacks.app.node
      .findAll()
      .filter((c) =>
        c.node.metadata.some(
          (m) =>
            m.type === 'aws:cdk:acknowledged-rules' &&
            Object.keys(m.data as object).some((id) => id.endsWith('AwsSolutions-APIG4')),
        ),
      );
    expect(acknowledgedAPIG4.map((c) => c.node.path).sort()).toEqual(
      [
        'openclaw-prod-app/Http/Api/POST--webhooks--discord',
        'openclaw-prod-app/Http/Api/POST--webhooks--slack',
        'openclaw-prod-app/Http/Api/POST--webhooks--telegram',
        // $disconnect and the message routes run on the connection its $connect authorizer accepted.
        'openclaw-prod-app/WebSocket/Api',
      ].sort(),
    );
  });

  it('adds no IAM statement on "*" (only the two without resource-level permissions remain)', () => {
    const wildcards = ofType('AWS::IAM::Policy')
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => [statement.Resource].flat().includes('*'))
      .flatMap((statement) => [statement.Action].flat());
    expect(wildcards.sort()).toEqual(['ecr:GetAuthorizationToken', 'ecs:ListTasks']);
  });

  it('keeps secrets out of the templates: names of SSM parameters only', () => {
    for (const fn of ofType('AWS::Lambda::Function')) {
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
      for (const name of Object.keys(variables))
        expect(name).not.toMatch(/(^|_)(API_KEY|TOKEN|SECRET|PASSWORD)$/);
    }
  });
});
