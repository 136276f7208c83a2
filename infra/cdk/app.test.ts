import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, TARGETS, type TargetId } from '../../bus/routing-table.ts';
import { createOpenClawApp, type OpenClawApp } from './app.ts';
import { DeploymentConfigSchema } from './config.ts';
import { routeBothWays, sampleEvents } from './test-support.ts';

/** The targets every deployment runs; the chat channels' consumers come with their channels. */
const DEFAULT_TARGETS: TargetId[] = [
  'runtime-selector',
  'agent',
  'web-consumer',
  'schedule-producer',
  'history',
];

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

describe('the CDK app (synthesized offline, no credentials, no Docker)', () => {
  let outdir: string;
  let stacks: OpenClawApp;
  const templates: Record<'data' | 'auth' | 'main' | 'web', Template> = {} as never;
  const all = () => Object.values(templates);
  const resourcesOf = (template: Template) => template.toJSON().Resources as Resources;
  const ofType = (template: Template, type: string) =>
    Object.entries(resourcesOf(template))
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => ({ id, ...r }));
  /** The bus's rules: the ones with an event pattern (the watchdog's schedule rule has none). */
  const busRules = () =>
    ofType(templates.main, 'AWS::Events::Rule').filter((r) => r.Properties?.EventPattern);
  const logicalIdOf = (construct: IConstruct) =>
    stacks.main.resolve(stacks.main.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
  type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };
  /** The statements of the inline policies attached to one role. */
  const statementsOf = (roleLogicalId: string): Statement[] =>
    ofType(templates.main, 'AWS::IAM::Policy')
      .filter((p) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
  const roleOf = (construct: IConstruct & { role?: IConstruct }) => logicalIdOf(construct.role!);
  const actionsOf = (statement: Statement) => [statement.Action].flat();
  const withAction = (statements: Statement[], action: string) =>
    statements.filter((statement) => actionsOf(statement).includes(action));

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'openclaw-cdk-'));
    stacks = await createOpenClawApp(DeploymentConfigSchema.parse({ alarmEmail: 'ops@example.com' }), outdir);
    // app.synth() runs the cdk-nag AwsSolutions checks: any unacknowledged finding throws here.
    stacks.app.synth();
    for (const key of ['data', 'auth', 'main', 'web'] as const)
      templates[key] = Template.fromStack(stacks[key]);
  }, 120_000);
  afterAll(() => rm(outdir, { recursive: true, force: true }));

  it('passes cdk-nag AwsSolutions with every acknowledgement carrying a reason', () => {
    // Reaching here means synth did not throw; the acknowledgements themselves must explain themselves.
    const acknowledged = stacks.app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const reason of acknowledged) expect(String(reason).length).toBeGreaterThan(30);
  });

  describe('storage', () => {
    it('is an on-demand table with TTL, point-in-time recovery, and kept on stack deletion', () => {
      templates.data.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          Replicas: [
            Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
          ],
        }),
      });
    });

    it('is an encrypted, versioned, private, TLS-only bucket with lifecycle rules', () => {
      templates.data.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: Match.anyValue() })]),
        },
      });
      templates.data.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  describe('nothing that bills while idle', () => {
    it.each([
      'AWS::EC2::NatGateway',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancing::LoadBalancer',
      'AWS::KMS::Key',
      'AWS::SecretsManager::Secret',
      'AWS::EC2::Instance',
      'AWS::RDS::DBInstance',
      'AWS::EC2::VPCEndpoint',
      'AWS::EC2::EIP',
    ])('has no %s in any stack', (type) => {
      for (const template of all()) template.resourceCountIs(type, 0);
    });

    it('runs Fargate tasks in public subnets only, with Spot capacity and no inbound rule', () => {
      templates.main.resourceCountIs('AWS::EC2::Subnet', 2);
      for (const subnet of Object.values(resourcesOf(templates.main)).filter(
        (r) => r.Type === 'AWS::EC2::Subnet',
      )) {
        expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(true);
      }
      templates.main.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
        CapacityProviders: Match.arrayWith(['FARGATE_SPOT']),
      });
      templates.main.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('nothing may connect in'),
        SecurityGroupIngress: Match.absent(),
      });
    });
  });

  describe('the bus', () => {
    it('creates one rule per route of a deployed target, with the routing table’s pattern verbatim', () => {
      const rules = busRules();
      const deployedRoutes = ROUTES.filter((route) => DEFAULT_TARGETS.includes(route.target));
      expect(rules).toHaveLength(deployedRoutes.length);
      for (const route of deployedRoutes) {
        expect(rules.map((r) => r.Properties?.EventPattern)).toContainEqual(route.pattern);
      }
      expect(stacks.main.eventRouting.deployedRoutes).toEqual(deployedRoutes);
    });

    it('gives every target a dead-letter queue and a retry policy, for delivery and for handler failures', () => {
      for (const rule of busRules()) {
        for (const target of rule.Properties!.Targets as Record<string, unknown>[]) {
          expect(target.DeadLetterConfig).toMatchObject({ Arn: expect.anything() });
          expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
        }
      }
      const invokeConfigs = ofType(templates.main, 'AWS::Lambda::EventInvokeConfig');
      // Every deployed target, plus the watchdog, whose failed sweep is not retried (the next comes a
      // minute later).
      expect(invokeConfigs).toHaveLength(DEFAULT_TARGETS.length + 1);
      const watchdogConfig = invokeConfigs.filter(
        (c) =>
          JSON.stringify(c.Properties?.FunctionName) ===
          JSON.stringify({ Ref: logicalIdOf(stacks.main.runtimeWatchdog) }),
      );
      expect(watchdogConfig).toHaveLength(1);
      expect(watchdogConfig[0]?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
      for (const config of invokeConfigs.filter((c) => !watchdogConfig.includes(c))) {
        expect(config.Properties?.DestinationConfig).toMatchObject({
          OnFailure: { Destination: expect.anything() },
        });
      }
    });

    it('alarms on every dead-letter queue and on a failing watchdog, archives events for replay', () => {
      // Every target's queue, the schedule fires' queue, the watchdog, and monitoring's two (monitoring.test.ts).
      templates.main.resourceCountIs('AWS::CloudWatch::Alarm', DEFAULT_TARGETS.length + 2 + 2);
      templates.main.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(stacks.main.runtimeWatchdog) } }],
        AlarmActions: Match.anyValue(),
      });
      templates.main.resourceCountIs('AWS::Events::Archive', 1);
      templates.main.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      });
    });

    it('routes sample events to the same targets as the local bus does (one routing table)', async () => {
      // Act
      const { viaAws, viaLocal } = await routeBothWays(stacks.main, templates.main, {
        'runtime-selector': stacks.main.runtimeSelector,
        agent: stacks.main.agentRuntime.lambda,
        'web-consumer': stacks.main.node.findChild('WebConsumer'),
        'schedule-producer': stacks.main.scheduleProducer,
        history: stacks.main.historyConsumer,
      });

      // Assess
      expect(viaAws.flat()).not.toContain(undefined);
      expect(viaAws).toEqual(viaLocal);
      expect(viaAws.some((targets) => targets.includes('runtime-selector'))).toBe(true);
      expect(viaAws.some((targets) => targets.includes('web-consumer'))).toBe(true);
      // Only the scheduler's ScheduleFired reaches the schedule producer, and it reaches nothing else.
      const samples = sampleEvents();
      const fires = samples.flatMap((event, i) => (viaAws[i]!.includes('schedule-producer') ? [event] : []));
      expect(fires.map((event) => [event.source, event['detail-type']])).toEqual([
        ['openclaw.scheduler', 'ScheduleFired.v1'],
      ]);
      expect(viaAws[samples.indexOf(fires[0]!)]).toEqual(['schedule-producer']);
      // The selector invokes the agent itself; no rule does.
      expect(viaAws.flat()).not.toContain('agent');
      expect(viaAws.some((targets) => targets.length === 0)).toBe(true);
    });
  });

  describe('agent runtimes', () => {
    const taskDefinition = () => {
      const [definition, ...others] = ofType(templates.main, 'AWS::ECS::TaskDefinition');
      expect(others).toHaveLength(0);
      return definition!;
    };

    it('defines an ARM64 Fargate task with a 120 s stop timeout, a read-only root and /tmp for scratch', () => {
      const { Properties: properties } = taskDefinition();
      expect(properties).toMatchObject({
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: '1024',
        Memory: '2048',
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
        Volumes: [{ Name: 'tmp' }],
      });
      const [container] = properties!.ContainerDefinitions as Record<string, unknown>[];
      expect(container).toMatchObject({
        Name: stacks.main.agentRuntime.containerName,
        Essential: true,
        StopTimeout: 120,
        ReadonlyRootFilesystem: true,
        MountPoints: [{ SourceVolume: 'tmp', ContainerPath: '/tmp', ReadOnly: false }],
        LinuxParameters: { InitProcessEnabled: true },
        LogConfiguration: { LogDriver: 'awslogs' },
      });
      const environment = Object.fromEntries(
        (container!.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
      );
      // The grace plus the worker's 15 s to save an interrupted turn fit in the stop timeout.
      expect(Number(environment.SHUTDOWN_GRACE_MS) + 15_000).toBeLessThanOrEqual(120_000);
      expect(Number(environment.TURN_TIMEOUT_MS)).toBeGreaterThan(15 * 60_000);
      for (const name of [
        'TABLE_NAME',
        'EVENT_BUS_NAME',
        'STATE_BUCKET',
        'SECRETS_PREFIX',
        'OPENCLAW_LLM_MODEL',
      ])
        expect(environment, name).toHaveProperty(name);
      // Per task, from RunTask: never baked into the definition.
      expect(environment).not.toHaveProperty('USER_ID');
    });

    it('logs the container to a log group with a retention period', () => {
      const [container] = taskDefinition().Properties!.ContainerDefinitions as {
        LogConfiguration: { Options: Record<string, unknown> };
      }[];
      const group = container!.LogConfiguration.Options['awslogs-group'] as { Ref: string };
      expect(resourcesOf(templates.main)[group.Ref]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
    });

    it('gives the task role the agent’s data access and nothing of ECS', () => {
      const taskRole = stacks.main.agentRuntime.taskDefinition.taskRole;
      const statements = statementsOf(logicalIdOf(taskRole));
      const actions = statements.flatMap(actionsOf);
      expect(actions.filter((action) => action.startsWith('ecs:'))).toEqual([]);
      // Its only iam: right passes the scheduler role, for the schedule tools (asserted below).
      expect(withAction(statements, 'iam:PassRole')).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': [logicalIdOf(stacks.main.schedulerRole), 'Arn'] },
        }),
      ]);
      expect(actions.filter((action) => action.startsWith('iam:'))).toEqual(['iam:PassRole']);
      expect(actions).not.toContain('lambda:InvokeFunction');
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'ssm:GetParameter']));
      // No S3 of its own: only through the role it assumes narrowed to its user (asserted below).
      expect(actions.filter((action) => action.startsWith('s3:'))).toEqual([]);
      expect(withAction(statements, 'sts:AssumeRole')).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': [logicalIdOf(stacks.main.agentTaskS3Role), 'Arn'] },
        }),
      ]);
      // The table itself, not its index (only the watchdog reads that).
      expect(JSON.stringify(withAction(statements, 'dynamodb:Query'))).not.toContain('/index/');
      expect(withAction(statements, 'events:PutEvents')).toEqual([
        expect.objectContaining({ Condition: { StringEquals: { 'events:source': 'openclaw.agent' } } }),
      ]);
    });

    it('lets the agent read LLM keys only, never the chat bots’ tokens under the same prefix', () => {
      for (const role of [
        stacks.main.agentRuntime.taskDefinition.taskRole,
        stacks.main.agentRuntime.lambda.role!,
      ]) {
        const ssm = JSON.stringify(withAction(statementsOf(logicalIdOf(role)), 'ssm:GetParameter'));
        expect(ssm).toContain('ANTHROPIC_API_KEY');
        expect(ssm).toContain('users/*');
        expect(ssm).not.toContain('OPENCLAW_KEY_');
        expect(ssm).not.toMatch(/prod\/\*|TELEGRAM|DISCORD|SLACK/);
      }
    });

    it('lets the selector start only this task definition, in this cluster, passing its roles only to ECS', () => {
      const runtime = stacks.main.agentRuntime;
      const statements = statementsOf(roleOf(stacks.main.runtimeSelector));
      expect(withAction(statements, 'ecs:RunTask')).toEqual([
        {
          Action: 'ecs:RunTask',
          Effect: 'Allow',
          Resource: { Ref: logicalIdOf(runtime.taskDefinition) },
          Condition: {
            ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalIdOf(runtime.cluster), 'Arn'] } },
          },
        },
      ]);
      expect(withAction(statements, 'iam:PassRole')).toEqual([
        {
          Action: 'iam:PassRole',
          Effect: 'Allow',
          Resource: [
            { 'Fn::GetAtt': [logicalIdOf(runtime.taskDefinition.taskRole), 'Arn'] },
            { 'Fn::GetAtt': [logicalIdOf(runtime.executionRole), 'Arn'] },
          ],
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ]);
      expect(withAction(statements, 'ecs:TagResource')).toEqual([
        expect.objectContaining({ Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } } }),
      ]);
      expect(withAction(statements, 'lambda:InvokeFunction')).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logicalIdOf(runtime.lambda), 'Arn'] },
        },
      ]);
      // It never lists the cluster or reads the watchdog's index.
      expect(withAction(statements, 'ecs:ListTasks')).toEqual([]);
      expect(JSON.stringify(statements)).not.toContain('/index/');
    });

    it('hands the selector the task’s cluster, definition, container, network and the deployment defaults', () => {
      const runtime = stacks.main.agentRuntime;
      for (const handler of [stacks.main.runtimeSelector, stacks.main.runtimeWatchdog]) {
        const fn = resourcesOf(templates.main)[logicalIdOf(handler)]!;
        const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(variables).toMatchObject({
          TABLE_NAME: { 'Fn::ImportValue': expect.stringContaining('openclaw-prod-data:') },
          AGENT_FUNCTION_NAME: { Ref: logicalIdOf(runtime.lambda) },
          ECS_CLUSTER: { 'Fn::GetAtt': [logicalIdOf(runtime.cluster), 'Arn'] },
          ECS_TASK_DEFINITION: { Ref: logicalIdOf(runtime.taskDefinition) },
          ECS_CONTAINER_NAME: 'agent',
          ECS_SECURITY_GROUPS: { 'Fn::GetAtt': [logicalIdOf(runtime.taskSecurityGroup), 'GroupId'] },
          DEFAULT_RUNTIME: 'lambda',
          IDLE_TIMEOUT_MS: String(15 * 60_000),
          EVENT_BUS_NAME: { Ref: logicalIdOf(stacks.main.eventRouting.bus) },
        });
        // Both public subnets, comma-separated.
        expect(
          JSON.stringify(variables.ECS_SUBNETS).match(/"Ref":"AgentVpcpublicSubnet\dSubnet/g),
        ).toHaveLength(2);
      }
      expect(resourcesOf(templates.main)[logicalIdOf(stacks.main.runtimeSelector)]?.Properties).toMatchObject(
        {
          Handler: 'index.handler',
          Timeout: 60,
        },
      );
      expect(resourcesOf(templates.main)[logicalIdOf(stacks.main.runtimeWatchdog)]?.Properties).toMatchObject(
        {
          Handler: 'index.watchdogHandler',
          Timeout: 120,
        },
      );
    });

    it('sweeps with the watchdog every minute: it observes the cluster and reads the active-tasks index', () => {
      const watchdog = stacks.main.runtimeWatchdog;
      templates.main.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        EventBusName: Match.absent(),
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(watchdog), 'Arn'] } })],
      });
      const statements = statementsOf(roleOf(watchdog));
      expect(actionsOf(withAction(statements, 'ecs:DescribeTasks')[0]!)).toContain('ecs:StopTask');
      expect(withAction(statements, 'ecs:RunTask')).toHaveLength(1);
      expect(JSON.stringify(withAction(statements, 'dynamodb:Query'))).toContain('/index/active-tasks');
    });

    it('indexes the active task records on the table (sparse, for the watchdog)', () => {
      templates.data.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        GlobalSecondaryIndexes: [
          {
            IndexName: 'active-tasks',
            KeySchema: [{ AttributeName: 'activeTask', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      });
    });

    it('grants no handler the whole index space of the table', () => {
      const text = JSON.stringify(templates.main.toJSON());
      expect(text).not.toContain('/index/*');
    });
  });

  describe('APIs and auth', () => {
    it('authorizes WebSocket $connect with the JWT in the query string and returns route responses', () => {
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'REQUEST',
        IdentitySource: ['route.request.querystring.token'],
      });
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: '$connect',
        AuthorizationType: 'CUSTOM',
      });
      for (const key of ['$default', 'sendMessage', 'ping']) {
        templates.main.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          RouteKey: key,
          RouteResponseSelectionExpression: '$default',
        });
      }
    });

    it('puts the management API behind a Cognito JWT authorizer, and throttles both APIs', () => {
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'GET /v1/me',
        AuthorizationType: 'JWT',
      });
      const stages = Object.values(resourcesOf(templates.main)).filter(
        (r) => r.Type === 'AWS::ApiGatewayV2::Stage',
      );
      expect(stages).toHaveLength(2);
      for (const stage of stages) {
        expect(stage.Properties?.DefaultRouteSettings).toMatchObject({
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        });
      }
    });

    it('creates link codes behind the JWT authorizer, with a function that may only put items', () => {
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'POST /v1/link-codes',
        AuthorizationType: 'JWT',
        AuthorizerId: Match.anyValue(),
      });
      const statements = statementsOf(roleOf(stacks.main.linkCodes));
      expect(statements).toEqual([
        {
          Action: 'dynamodb:PutItem',
          Effect: 'Allow',
          Resource: { 'Fn::ImportValue': expect.stringContaining('openclaw-prod-data:') },
        },
      ]);
    });

    it('deploys no chat channel that the config leaves disabled (the default)', () => {
      expect(stacks.main.chatChannels).toEqual([]);
      const routeKeys = ofType(templates.main, 'AWS::ApiGatewayV2::Route').map((r) => r.Properties?.RouteKey);
      expect(routeKeys.filter((key) => String(key).includes('/webhooks/'))).toEqual([]);
      const text = JSON.stringify(templates.main.toJSON());
      for (const name of ['telegram', 'discord', 'slack']) {
        expect(text).not.toMatch(new RegExp(`${name}-consumer|${name.toUpperCase()}_|/webhooks/${name}`));
        expect(
          Object.keys(resourcesOf(templates.main)).filter((id) => id.toLowerCase().includes(name)),
        ).toEqual([]);
      }
    });

    it('lets only an admin create users; a browser client (no secret) signs in with a password or SRP and refreshes', () => {
      templates.auth.hasResourceProperties('AWS::Cognito::UserPool', {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      });
      const [client, ...others] = ofType(templates.auth, 'AWS::Cognito::UserPoolClient');
      expect(others).toEqual([]);
      const properties = client?.Properties ?? {};
      expect(properties.GenerateSecret).toBe(false);
      // The sign-in element's flows (the local issuer speaks the same two), SRP, and the operator's admin flow.
      expect([...(properties.ExplicitAuthFlows as string[])].sort()).toEqual([
        'ALLOW_ADMIN_USER_PASSWORD_AUTH',
        'ALLOW_REFRESH_TOKEN_AUTH',
        'ALLOW_USER_PASSWORD_AUTH',
        'ALLOW_USER_SRP_AUTH',
      ]);
      expect(properties).toMatchObject({
        PreventUserExistenceErrors: 'ENABLED',
        EnableTokenRevocation: true,
        RefreshTokenValidity: 43_200,
        IdTokenValidity: 60,
      });
    });
  });

  describe('the agent', () => {
    it('runs as an ARM64 container image on Lambda with memory, /tmp space and timeout', () => {
      templates.main.hasResourceProperties('AWS::Lambda::Function', {
        PackageType: 'Image',
        Architectures: ['arm64'],
        MemorySize: 3008,
        Timeout: 300,
        EphemeralStorage: { Size: 2048 },
        // Off by default: new accounts (quota 10) cannot reserve; deploy-env.test.ts sets a cap.
        ReservedConcurrentExecutions: Match.absent(),
      });
    });

    it('may read and write only session state in S3, and list only that prefix', () => {
      templates.main.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['s3:GetObject', 's3:PutObject'],
              Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
            }),
            Match.objectLike({
              Action: 's3:ListBucket',
              Condition: { StringLike: { 's3:prefix': ['sessions/*', 'skills/*'] } },
            }),
          ]),
        },
      });
    });

    it('lets each publisher put events only under its own source', () => {
      for (const source of ['openclaw.web', 'openclaw.agent', 'openclaw.scheduler', 'openclaw.schedule']) {
        templates.main.hasResourceProperties('AWS::IAM::Policy', {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Action: 'events:PutEvents',
                Condition: { StringEquals: { 'events:source': source } },
              }),
            ]),
          },
        });
      }
    });

    it('keeps secrets out of the templates: only the SSM path is passed, read at run time', () => {
      const text = JSON.stringify(all().map((t) => t.toJSON()));
      expect(text).not.toMatch(/sk-[A-Za-z0-9]/);
      const functions = Object.values(resourcesOf(templates.main)).filter(
        (r) => r.Type === 'AWS::Lambda::Function',
      );
      for (const fn of functions) {
        const variables = Object.keys(
          (fn.Properties?.Environment as { Variables?: object })?.Variables ?? {},
        );
        for (const name of variables) expect(name).not.toMatch(/(^|_)(API_KEY|TOKEN|SECRET|PASSWORD)$/);
      }
      const [taskDefinition] = ofType(templates.main, 'AWS::ECS::TaskDefinition');
      const containers = taskDefinition?.Properties?.ContainerDefinitions as {
        Environment: { Name: string; Value: unknown }[];
        Secrets?: unknown;
      }[];
      expect(containers).toHaveLength(1);
      for (const { Name, Value } of containers[0]!.Environment) {
        expect(Name).not.toMatch(/(^|_)(API_KEY|TOKEN|SECRET|PASSWORD)$/);
        expect(JSON.stringify(Value)).not.toMatch(/sk-|-----BEGIN/);
      }
      expect(containers[0]!.Environment).toContainEqual({
        Name: 'SECRETS_PREFIX',
        Value: '/serverless-openclaw/prod/',
      });
      templates.main.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ SECRETS_PREFIX: '/serverless-openclaw/prod/' }) },
      });
    });
  });

  it('names specific resources in every IAM policy it writes (no "*" outside CDK’s own deployment helper)', () => {
    // Only actions that have no resource-level permissions may name "*", each with its narrowing condition.
    const unscopable: Record<string, (statement: Statement) => boolean> = {
      // The image pull itself is scoped to the asset repository in the same policy.
      'ecr:GetAuthorizationToken': () => true,
      'ecs:ListTasks': (statement) =>
        JSON.stringify(statement.Condition) ===
        JSON.stringify({
          ArnEquals: {
            'ecs:cluster': { 'Fn::GetAtt': [logicalIdOf(stacks.main.agentRuntime.cluster), 'Arn'] },
          },
        }),
    };
    const wildcards: string[] = [];
    for (const [name, template] of Object.entries(templates)) {
      for (const [id, resource] of Object.entries(resourcesOf(template))) {
        if (resource.Type !== 'AWS::IAM::Policy' || id.startsWith('CustomCDKBucketDeployment')) continue;
        const statements = (resource.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
        for (const statement of statements) {
          if (![statement.Resource].flat().includes('*')) continue;
          for (const action of actionsOf(statement)) {
            expect(unscopable[action]?.(statement), `${name}/${id}: ${action} on "*"`).toBe(true);
            wildcards.push(action);
          }
        }
      }
    }
    expect(wildcards.sort()).toEqual(['ecr:GetAuthorizationToken', 'ecs:ListTasks']);
  });

  describe('custom skills', () => {
    const SKILL_ROUTES = [
      'GET /v1/skills',
      'POST /v1/skills',
      'PATCH /v1/skills/{name}',
      'DELETE /v1/skills/{name}',
    ];
    /** The S3 object ARN pattern a statement names, as text (`…:s3:::<bucket>/skills/*`). */
    const objectsOf = (statement: Statement) => JSON.stringify(statement.Resource);
    const s3Statements = (roleLogicalId: string) =>
      statementsOf(roleLogicalId).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));

    it('serves every /v1/skills route behind the Cognito JWT authorizer, from the skills function', () => {
      const routes = ofType(templates.main, 'AWS::ApiGatewayV2::Route').filter((r) =>
        String(r.Properties?.RouteKey).includes('/v1/skills'),
      );
      expect(routes.map((r) => r.Properties?.RouteKey).sort()).toEqual([...SKILL_ROUTES].sort());
      for (const route of routes) {
        expect(route.Properties?.AuthorizationType, String(route.Properties?.RouteKey)).toBe('JWT');
        const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)?.[1];
        expect(resourcesOf(templates.main)[integrationId!]?.Properties).toMatchObject({
          IntegrationUri: { 'Fn::GetAtt': [logicalIdOf(stacks.main.skillsApi), 'Arn'] },
        });
      }
    });

    it('lets the skills API write and delete only skills/* in S3, and use only its items in the table', () => {
      const statements = s3Statements(roleOf(stacks.main.skillsApi));
      expect(statements).toHaveLength(1);
      expect(actionsOf(statements[0]!).sort()).toEqual(['s3:DeleteObject', 's3:PutObject']);
      expect(objectsOf(statements[0]!)).toMatch(/\/skills\/\*"/);
      const dynamo = statementsOf(roleOf(stacks.main.skillsApi)).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );
      expect(dynamo.flatMap(actionsOf).sort()).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
    });

    it('lets a Fargate task reach S3 only through a role only its task role may assume, told to the container', () => {
      const { taskDefinition } = stacks.main.agentRuntime;
      const s3Role = resourcesOf(templates.main)[logicalIdOf(stacks.main.agentTaskS3Role)]!;
      expect(s3Role.Properties?.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': [logicalIdOf(taskDefinition.taskRole), 'Arn'] } },
          },
        ],
      });
      // S3 only, and nothing else: the table, bus and keys stay on the task role.
      const actions = statementsOf(logicalIdOf(stacks.main.agentTaskS3Role)).flatMap(actionsOf);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => !action.startsWith('s3:'))).toEqual([]);
      const container = (
        resourcesOf(templates.main)[logicalIdOf(taskDefinition)]!.Properties!.ContainerDefinitions as {
          Environment: { Name: string; Value: unknown }[];
        }[]
      )[0]!;
      expect(container.Environment).toContainEqual({
        Name: 'AGENT_S3_ROLE_ARN',
        Value: { 'Fn::GetAtt': [logicalIdOf(stacks.main.agentTaskS3Role), 'Arn'] },
      });
    });

    it('lets the agent (Lambda and Fargate task) only read skills/*, never write them', () => {
      const runtime = stacks.main.agentRuntime;
      for (const role of [roleOf(runtime.lambda), logicalIdOf(stacks.main.agentTaskS3Role)]) {
        const onSkills = s3Statements(role).filter((s) => objectsOf(s).includes('/skills/'));
        expect(onSkills.flatMap(actionsOf), role).toEqual(['s3:GetObject']);
        // Session state and reply images stay the only prefixes it may write.
        for (const statement of withAction(s3Statements(role), 's3:PutObject')) {
          expect(objectsOf(statement)).toMatch(/\/(sessions|media)\/\*"/);
        }
      }
    });

    it('lets every reply consumer read only media/* (reply images), with STATE_BUCKET set', () => {
      const consumers = stacks.main.replyConsumers;
      expect(consumers.length).toBeGreaterThan(0); // this app enables no chat channel: the web one
      for (const consumer of consumers) {
        const statements = s3Statements(roleOf(consumer));
        expect(statements.flatMap(actionsOf), consumer.node.path).toEqual(['s3:GetObject']);
        expect(objectsOf(statements[0]!)).toMatch(/\/media\/\*"/);
        const variables = (
          resourcesOf(templates.main)[logicalIdOf(consumer)]!.Properties!.Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables;
        expect(variables.STATE_BUCKET, consumer.node.path).toBeTruthy();
      }
    });
  });

  describe('scheduled jobs', () => {
    const SCHEDULE_ROUTES = [
      'GET /v1/schedules',
      'POST /v1/schedules',
      'GET /v1/schedules/{jobId}',
      'PATCH /v1/schedules/{jobId}',
      'DELETE /v1/schedules/{jobId}',
      'POST /v1/schedules/{jobId}/pause',
      'POST /v1/schedules/{jobId}/resume',
    ];
    const table = { 'Fn::ImportValue': expect.stringContaining('openclaw-prod-data:') };
    const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalIdOf(construct), 'Arn'] });
    const environmentOf = (construct: IConstruct) =>
      (
        resourcesOf(templates.main)[logicalIdOf(construct)]!.Properties!.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    const dynamoStatements = (construct: IConstruct & { role?: IConstruct }) =>
      statementsOf(roleOf(construct)).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    /** The one schedule group, whose name the API's permissions and environment must carry. */
    const groupName = () => {
      const [group, ...others] = ofType(templates.main, 'AWS::Scheduler::ScheduleGroup');
      expect(others).toHaveLength(0);
      expect(group!.Properties?.Name).toBe(stacks.main.scheduleGroup.scheduleGroupName);
      return group!.Properties!.Name as string;
    };

    it('sends ScheduleFired to the schedule producer by the routing table’s rule, with a DLQ and retries', () => {
      const route = ROUTES.find((r) => r.name === 'schedule-fired-to-schedule-producer')!;
      expect(route.target).toBe('schedule-producer');
      const rules = busRules().filter(
        (r) => JSON.stringify(r.Properties?.EventPattern) === JSON.stringify(route.pattern),
      );
      expect(rules).toHaveLength(1);
      expect(rules[0]!.Properties?.EventPattern).toEqual({
        source: ['openclaw.scheduler'],
        'detail-type': ['ScheduleFired.v1'],
      });
      const producer = stacks.main.scheduleProducer;
      const queue = stacks.main.eventRouting.deadLetterQueues['schedule-producer']!;
      expect(rules[0]!.Properties?.Targets).toEqual([
        expect.objectContaining({
          Arn: arnOf(producer),
          DeadLetterConfig: { Arn: arnOf(queue) },
          RetryPolicy: {
            MaximumRetryAttempts: route.delivery.maximumRetryAttempts,
            MaximumEventAgeInSeconds: route.delivery.maximumEventAgeSeconds,
          },
        }),
      ]);
      // Handler failures go to the same queue after Lambda's own retries.
      const invokeConfig = ofType(templates.main, 'AWS::Lambda::EventInvokeConfig').filter(
        (c) => JSON.stringify(c.Properties?.FunctionName) === JSON.stringify({ Ref: logicalIdOf(producer) }),
      );
      expect(invokeConfig).toHaveLength(1);
      expect(invokeConfig[0]!.Properties).toMatchObject({
        MaximumRetryAttempts: TARGETS['schedule-producer'].retryAttempts,
        MaximumEventAgeInSeconds: TARGETS['schedule-producer'].maxEventAgeSeconds,
        DestinationConfig: { OnFailure: { Destination: arnOf(queue) } },
      });
      templates.main.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(queue), 'QueueName'] } }],
        AlarmActions: Match.anyValue(),
      });
    });

    it('runs the schedule producer with the table and bus, publishing only as openclaw.schedule', () => {
      const producer = stacks.main.scheduleProducer;
      expect(resourcesOf(templates.main)[logicalIdOf(producer)]?.Properties).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
      });
      expect(environmentOf(producer)).toMatchObject({
        TABLE_NAME: table,
        EVENT_BUS_NAME: { Ref: logicalIdOf(stacks.main.eventRouting.bus) },
      });
      const statements = statementsOf(roleOf(producer));
      expect(withAction(statements, 'events:PutEvents')).toEqual([
        {
          Action: 'events:PutEvents',
          Effect: 'Allow',
          Resource: arnOf(stacks.main.eventRouting.bus),
          Condition: { StringEquals: { 'events:source': 'openclaw.schedule' } },
        },
      ]);
      // Dedupe claims and the job: item operations on the table, never its index.
      expect(dynamoStatements(producer)).toEqual([
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Effect: 'Allow',
          Resource: table,
        },
      ]);
      // It creates the one-time schedules that retry a failed run (see the job managers' test).
      expect(JSON.stringify(statements)).toMatch(/scheduler:|iam:PassRole/);
    });

    it('serves every /v1/schedules route behind the Cognito JWT authorizer, from the schedules function', () => {
      const [authorizer, ...others] = ofType(templates.main, 'AWS::ApiGatewayV2::Authorizer').filter(
        (a) => a.Properties?.AuthorizerType === 'JWT',
      );
      expect(others).toHaveLength(0);
      const routes = ofType(templates.main, 'AWS::ApiGatewayV2::Route').filter((r) =>
        String(r.Properties?.RouteKey).includes('/v1/schedules'),
      );
      expect(routes.map((r) => r.Properties?.RouteKey).sort()).toEqual([...SCHEDULE_ROUTES].sort());
      for (const route of routes) {
        expect(route.Properties, String(route.Properties?.RouteKey)).toMatchObject({
          AuthorizationType: 'JWT',
          AuthorizerId: { Ref: authorizer!.id },
        });
        const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)?.[1];
        expect(resourcesOf(templates.main)[integrationId!]?.Properties).toMatchObject({
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: arnOf(stacks.main.schedulesApi),
        });
      }
      // Browsers may send PATCH, DELETE and If-Match, and read the job's ETag.
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: Match.objectLike({
          AllowMethods: Match.arrayWith(['PATCH', 'DELETE']),
          AllowHeaders: Match.arrayWith(['if-match']),
          ExposeHeaders: ['etag'],
        }),
      });
    });

    it('tells the schedules API its table, schedule group, bus, scheduler role and dead-letter queue', () => {
      const api = stacks.main.schedulesApi;
      expect(resourcesOf(templates.main)[logicalIdOf(api)]?.Properties).toMatchObject({
        Handler: 'index.handler',
        Timeout: 15,
      });
      expect(environmentOf(api)).toMatchObject({
        TABLE_NAME: table,
        SCHEDULE_GROUP_NAME: groupName(),
        EVENT_BUS_ARN: arnOf(stacks.main.eventRouting.bus),
        SCHEDULER_ROLE_ARN: arnOf(stacks.main.schedulerRole),
        SCHEDULE_DLQ_ARN: arnOf(stacks.main.scheduleDeadLetterQueue),
      });
    });

    it('lets the schedules API manage only oc-* schedules in its group, and pass only the scheduler role', () => {
      const statements = statementsOf(roleOf(stacks.main.schedulesApi));
      const schedulerStatements = statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('scheduler:')),
      );
      expect(schedulerStatements).toEqual([
        {
          Action: [
            'scheduler:CreateSchedule',
            'scheduler:UpdateSchedule',
            'scheduler:DeleteSchedule',
            'scheduler:GetSchedule',
          ],
          Effect: 'Allow',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':scheduler:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                `:schedule/${groupName()}/oc-*`,
              ],
            ],
          },
        },
      ]);
      expect(withAction(statements, 'iam:PassRole')).toEqual([
        {
          Action: 'iam:PassRole',
          Effect: 'Allow',
          Resource: arnOf(stacks.main.schedulerRole),
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
      ]);
      // Its users' jobs on the table (Query lists one user's), never the index; it publishes nothing.
      expect(dynamoStatements(stacks.main.schedulesApi)).toEqual([
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
          Effect: 'Allow',
          Resource: table,
        },
      ]);
      expect(withAction(statements, 'events:PutEvents')).toEqual([]);
      // No role but the job managers' (and the agent's, for its schedule tools) may touch schedules or
      // pass the scheduler role.
      const managerRoles = [
        ...stacks.main.jobManagers.map((manager) => roleOf(manager)),
        roleOf(stacks.main.agentRuntime.lambda),
        logicalIdOf(stacks.main.agentRuntime.taskDefinition.taskRole),
      ].map((role) => JSON.stringify([{ Ref: role }]));
      const elsewhere = ofType(templates.main, 'AWS::IAM::Policy')
        .filter((p) => !managerRoles.includes(JSON.stringify(p.Properties?.Roles)))
        .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter(
          (s) =>
            actionsOf(s).some((a) => a.startsWith('scheduler:')) ||
            JSON.stringify(s.Resource).includes(logicalIdOf(stacks.main.schedulerRole)),
        );
      expect(elsewhere).toEqual([]);
    });

    it('lets the chat producers (/schedule) and the schedule producer (retries) manage oc-* schedules, with the same settings', () => {
      const names = stacks.main.jobManagers.map((manager) => manager.node.id);
      expect(names).toEqual(expect.arrayContaining(['ApiSchedules', 'ScheduleProducer', 'WebProducer']));
      expect(stacks.main.jobManagers.length).toBe(3 + stacks.main.chatChannels.length);
      for (const manager of stacks.main.jobManagers) {
        expect(environmentOf(manager)).toMatchObject({
          SCHEDULE_GROUP_NAME: groupName(),
          SCHEDULER_ROLE_ARN: arnOf(stacks.main.schedulerRole),
        });
        const statements = statementsOf(roleOf(manager));
        expect(withAction(statements, 'iam:PassRole')).toHaveLength(1);
        expect(JSON.stringify(statements)).toContain(`:schedule/${groupName()}/oc-*`);
      }
    });

    it('lets the agent (Lambda and Fargate task role) manage oc-* schedules for its schedule tools, with the settings', () => {
      const { lambda, taskDefinition } = stacks.main.agentRuntime;
      const taskRole = logicalIdOf(taskDefinition.taskRole);
      const settings = {
        SCHEDULE_GROUP_NAME: groupName(),
        EVENT_BUS_ARN: arnOf(stacks.main.eventRouting.bus),
        SCHEDULER_ROLE_ARN: arnOf(stacks.main.schedulerRole),
        SCHEDULE_DLQ_ARN: arnOf(stacks.main.scheduleDeadLetterQueue),
      };
      expect(environmentOf(lambda)).toMatchObject(settings);
      const container = (
        resourcesOf(templates.main)[logicalIdOf(taskDefinition)]!.Properties!.ContainerDefinitions as {
          Environment: { Name: string; Value: unknown }[];
        }[]
      )[0]!;
      const containerEnv = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
      expect(containerEnv).toMatchObject(settings);
      for (const role of [roleOf(lambda), taskRole]) {
        const statements = statementsOf(role);
        expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')))).toEqual([
          expect.objectContaining({
            Action: [
              'scheduler:CreateSchedule',
              'scheduler:UpdateSchedule',
              'scheduler:DeleteSchedule',
              'scheduler:GetSchedule',
            ],
          }),
        ]);
        expect(JSON.stringify(statements)).toContain(`:schedule/${groupName()}/oc-*`);
        expect(withAction(statements, 'iam:PassRole')).toContainEqual({
          Action: 'iam:PassRole',
          Effect: 'Allow',
          Resource: arnOf(stacks.main.schedulerRole),
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        });
      }
    });

    it('lets the scheduler role put only ScheduleFired’s source on the bus and send only to its DLQ', () => {
      const role = resourcesOf(templates.main)[logicalIdOf(stacks.main.schedulerRole)]!;
      expect(role.Properties?.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      });
      expect(statementsOf(logicalIdOf(stacks.main.schedulerRole))).toEqual([
        {
          Action: 'events:PutEvents',
          Effect: 'Allow',
          Resource: arnOf(stacks.main.eventRouting.bus),
          Condition: { StringEquals: { 'events:source': 'openclaw.scheduler' } },
        },
        {
          Action: 'sqs:SendMessage',
          Effect: 'Allow',
          Resource: arnOf(stacks.main.scheduleDeadLetterQueue),
        },
      ]);
    });

    it('keeps undeliverable fires in an encrypted, TLS-only queue for 14 days, with an alarm', () => {
      const queue = stacks.main.scheduleDeadLetterQueue;
      expect(resourcesOf(templates.main)[logicalIdOf(queue)]?.Properties).toEqual({
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      });
      templates.main.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      templates.main.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(queue), 'QueueName'] } }],
        AlarmActions: Match.anyValue(),
      });
    });

    it('acknowledges the oc-* schedule wildcard on the job managers only', () => {
      const acknowledged = stacks.app.node
        .findAll()
        .filter((c) =>
          c.node.metadata.some(
            (m) =>
              m.type === 'aws:cdk:acknowledged-rules' &&
              Object.keys(m.data as object).some((id) => id.includes(':scheduler:')),
          ),
        );
      const { lambda, taskDefinition } = stacks.main.agentRuntime;
      expect(acknowledged.map((c) => c.node.path).sort()).toEqual(
        [...stacks.main.jobManagers, lambda, taskDefinition.taskRole]
          .map((manager) => manager.node.path)
          .sort(),
      );
    });
  });

  it('serves the chat from a private bucket through CloudFront with origin access control', () => {
    templates.web.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    templates.web.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ DefaultRootObject: 'index.html' }),
    });
  });

  describe('the management API (history, settings, linked channels)', () => {
    const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalIdOf(construct), 'Arn'] });
    const routesTo = (construct: IConstruct) =>
      ofType(templates.main, 'AWS::ApiGatewayV2::Route')
        .filter((route) => {
          const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)?.[1];
          const uri = resourcesOf(templates.main)[integrationId!]?.Properties?.IntegrationUri;
          return JSON.stringify(uri) === JSON.stringify(arnOf(construct));
        })
        .map((route) => {
          expect(route.Properties).toMatchObject({ AuthorizationType: 'JWT' });
          return route.Properties?.RouteKey;
        })
        .sort();
    const tableActions = (construct: IConstruct & { role?: IConstruct }) =>
      statementsOf(roleOf(construct))
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith('dynamodb:')))
        .flatMap(actionsOf)
        .sort();

    it('serves each area from its own function, every route behind the JWT authorizer', () => {
      expect(routesTo(stacks.main.conversationsApi)).toEqual([
        'DELETE /v1/conversations/{conversationId}',
        'GET /v1/conversations',
        'GET /v1/conversations/{conversationId}',
      ]);
      expect(routesTo(stacks.main.settingsApi)).toEqual(['GET /v1/settings', 'PUT /v1/settings']);
      expect(routesTo(stacks.main.channelsApi)).toEqual([
        'DELETE /v1/channels/{channel}/{channelUserId}',
        'GET /v1/channels',
      ]);
    });

    it('grants each function only the item operations it performs', () => {
      expect(tableActions(stacks.main.historyConsumer)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(tableActions(stacks.main.conversationsApi)).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
      expect(tableActions(stacks.main.settingsApi)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(tableActions(stacks.main.channelsApi)).toEqual(['dynamodb:DeleteItem', 'dynamodb:Query']);
    });

    it('lets the settings API write and delete users’ keys under users/ only, and never read them', () => {
      const statements = statementsOf(roleOf(stacks.main.settingsApi));
      const ssm = statements.filter((statement) => actionsOf(statement).some((a) => a.startsWith('ssm:')));
      expect(ssm.flatMap(actionsOf).sort()).toEqual(['ssm:DeleteParameter', 'ssm:PutParameter']);
      expect(JSON.stringify(ssm)).toContain('/users/*');
      expect(JSON.stringify(ssm)).not.toMatch(/TELEGRAM|DISCORD|SLACK|ANTHROPIC/);
      // It needs the secrets path and the default LLM's names (shown in settings), never a key value.
      const fn = resourcesOf(templates.main)[logicalIdOf(stacks.main.settingsApi)];
      const variables = (fn!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toMatchObject({
        SECRETS_PREFIX: '/serverless-openclaw/prod/',
        OPENCLAW_LLM_MODEL: expect.any(String),
      });
    });

    it('feeds the history consumer MessageReceived and ReplyCompleted by the routing table’s rules', () => {
      const rules = busRules().filter((rule) =>
        JSON.stringify(rule.Properties?.Targets).includes(logicalIdOf(stacks.main.historyConsumer)),
      );
      expect(
        rules
          .map((rule) => (rule.Properties!.EventPattern as { 'detail-type': string[] })['detail-type'])
          .sort(),
      ).toEqual([['MessageReceived.v1'], ['ReplyCompleted.v1']]);
    });

    it('routes the web chat’s stop action to the web producer', () => {
      templates.main.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'stop' });
    });
  });
});
