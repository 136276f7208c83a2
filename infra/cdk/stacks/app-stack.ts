import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { EventSources } from '../../../schemas/events.ts';
import { ACTIVE_TASKS_INDEX } from '../../../schemas/table.ts';
import { type DeploymentConfig, secretsPrefix } from '../config.ts';
import { AgentRuntime } from '../constructs/agent-runtime.ts';
import { EventRouting } from '../constructs/event-routing.ts';
import { ChannelHttpApi } from '../constructs/http-api.ts';
import { NodeHandler } from '../constructs/node-handler.ts';
import { grantIndexQuery, grantTable } from '../constructs/table-access.ts';
import { WebSocketChatApi } from '../constructs/web-socket-api.ts';
import { stateBucketName } from './data-stack.ts';

export interface AppStackProps extends StackProps {
  config: DeploymentConfig;
  table: TableV2;
  userPool: UserPool;
  client: UserPoolClient;
}

/**
 * Everything that runs: the bus and its rules, the web channel's WebSocket API, the HTTP API, the
 * runtime selector and its watchdog, the agent on Lambda and on Fargate, the schedule group, and alarms.
 * All pay-per-use: with nobody chatting, no task runs.
 */
export class AppStack extends Stack {
  readonly webSocketUrl: string;
  readonly webSocketApi: WebSocketChatApi;
  readonly httpApi: ChannelHttpApi;
  readonly agentRuntime: AgentRuntime;
  readonly runtimeSelector: NodeHandler;
  readonly runtimeWatchdog: NodeHandler;
  readonly eventRouting: EventRouting;
  readonly httpApiUrl: string;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { config, table } = props;
    const stateBucket = stateBucketName(config.stage);
    const stateBucketArn = `arn:${Aws.PARTITION}:s3:::${stateBucket}`;
    const prefix = secretsPrefix(config);

    const alarmTopic = new Topic(this, 'Alarms', {
      enforceSSL: true,
      displayName: 'serverless-openclaw alarms',
    });
    if (config.alarmEmail) alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));

    const common = { TABLE_NAME: table.tableName, POWERTOOLS_LOG_LEVEL: 'INFO' };

    // The web channel.
    const webAuthorizer = new NodeHandler(this, 'WebAuthorizer', {
      entry: 'producers/web/authorizer.ts',
      description: 'Verifies the Cognito JWT of a WebSocket $connect.',
      environment: {
        COGNITO_USER_POOL_ID: props.userPool.userPoolId,
        COGNITO_CLIENT_ID: props.client.userPoolClientId,
        POWERTOOLS_SERVICE_NAME: 'web-authorizer',
      },
    });
    const webProducer = new NodeHandler(this, 'WebProducer', {
      entry: 'producers/web/handler.ts',
      description: 'WebSocket connect/disconnect/messages: dedupe and publish MessageReceived.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'web-producer' },
    });
    const webConsumer = new NodeHandler(this, 'WebConsumer', {
      entry: 'consumers/web/handler.ts',
      description: 'Posts replies and status to the web chat connections.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'web-consumer' },
    });
    // Only the item operations each handler performs (no Scan, no batch, no streams).
    grantTable(
      webProducer,
      table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    grantTable(webConsumer, table, 'dynamodb:Query', 'dynamodb:DeleteItem');

    const webSocket = new WebSocketChatApi(this, 'WebSocket', {
      producer: webProducer,
      authorizer: webAuthorizer,
      stageName: config.stage,
      throttling: config.throttling,
    });
    webConsumer.addEnvironment('WEB_SOCKET_CALLBACK_URL', webSocket.stage.callbackUrl);
    webSocket.stage.grantManagementApiAccess(webConsumer);

    // The agent.
    const runtime = new AgentRuntime(this, 'Agent', {
      config,
      environment: {
        ...common,
        STATE_BUCKET: stateBucket,
        SECRETS_PREFIX: prefix,
        POWERTOOLS_SERVICE_NAME: 'agent',
        OPENCLAW_LLM_PROVIDER: config.llm.provider,
        OPENCLAW_LLM_API: config.llm.api,
        OPENCLAW_LLM_MODEL: config.llm.model,
        ...(config.llm.baseUrl ? { OPENCLAW_LLM_BASE_URL: config.llm.baseUrl } : {}),
        ...(config.llm.apiKeyRef ? { OPENCLAW_LLM_API_KEY_REF: config.llm.apiKeyRef } : {}),
      },
    });
    // The same access on Lambda and in the Fargate task: turns, locks, task state, the user's queue
    // (Query), session state and the LLM keys. The task role gets no ECS permission at all.
    for (const agentPrincipal of [runtime.lambda, runtime.taskDefinition.taskRole]) {
      grantTable(
        agentPrincipal,
        table,
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      );
      const allow = (statement: PolicyStatement) =>
        agentPrincipal.grantPrincipal.addToPrincipalPolicy(statement);
      // Only the session-state prefix: skills and backups are for other roles.
      allow(
        new PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [`${stateBucketArn}/sessions/*`],
        }),
      );
      // Without ListBucket, S3 answers a GET of a missing key with 403 instead of 404, and a new user's
      // first turn could not tell "nothing saved yet" from "not allowed".
      allow(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [stateBucketArn],
          conditions: { StringLike: { 's3:prefix': ['sessions/*'] } },
        }),
      );
      allow(
        new PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [
            this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}*` }),
          ],
        }),
      );
    }

    // The runtime selector (bus target) and its watchdog (every minute) share one entry and one
    // environment; each gets only the permissions its code paths use.
    const selectorEnvironment = {
      ...common,
      AGENT_FUNCTION_NAME: runtime.lambda.functionName,
      ECS_CLUSTER: runtime.cluster.clusterArn,
      ECS_TASK_DEFINITION: runtime.taskDefinition.taskDefinitionArn,
      ECS_CONTAINER_NAME: runtime.containerName,
      ECS_SUBNETS: runtime.vpc.publicSubnets.map((subnet) => subnet.subnetId).join(','),
      ECS_SECURITY_GROUPS: runtime.taskSecurityGroup.securityGroupId,
      DEFAULT_RUNTIME: config.defaultRuntime,
      IDLE_TIMEOUT_MS: String(config.idleTimeoutMinutes * 60_000),
    };
    const selector = new NodeHandler(this, 'RuntimeSelector', {
      entry: 'consumers/runtime-selector/lambda.ts',
      description: 'Runs each message on Lambda or the user’s Fargate task, starting the task when needed.',
      // It may wait up to 15 s for a stopping task before starting the next one.
      timeout: Duration.seconds(60),
      environment: { ...selectorEnvironment, POWERTOOLS_SERVICE_NAME: 'runtime-selector' },
    });
    const watchdog = new NodeHandler(this, 'RuntimeWatchdog', {
      entry: 'consumers/runtime-selector/lambda.ts',
      handler: 'watchdogHandler',
      description: 'Every minute: stops idle and orphaned agent tasks, recovers dead ones and their queues.',
      timeout: Duration.seconds(120),
      environment: { ...selectorEnvironment, POWERTOOLS_SERVICE_NAME: 'runtime-watchdog' },
    });
    const taskArns = this.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${runtime.cluster.clusterName}/*`,
    });
    const inCluster = { ArnEquals: { 'ecs:cluster': runtime.cluster.clusterArn } };
    const controlTasks = (grantee: IGrantable, { observe }: { observe: boolean }) => {
      const allow = (statement: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
      grantTable(
        grantee,
        table,
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      );
      // The agent's own function only, asynchronously: for turns and queue drains.
      allow(
        new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [runtime.lambda.functionArn] }),
      );
      // This task definition (this revision), in this cluster; the roles it names, to ECS only.
      allow(
        new PolicyStatement({
          actions: ['ecs:RunTask'],
          resources: [runtime.taskDefinition.taskDefinitionArn],
          conditions: inCluster,
        }),
      );
      allow(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [runtime.taskDefinition.taskRole.roleArn, runtime.executionRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
      // RunTask copies the task definition's tags to the task (propagateTags); ECS authorizes that as
      // TagResource on the new task, and only then.
      allow(
        new PolicyStatement({
          actions: ['ecs:TagResource'],
          resources: [taskArns],
          conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
        }),
      );
      allow(
        new PolicyStatement({
          actions: observe ? ['ecs:StopTask', 'ecs:DescribeTasks'] : ['ecs:StopTask'],
          resources: [taskArns],
          conditions: inCluster,
        }),
      );
      if (!observe) return;
      // ListTasks has no resource-level permissions; the condition keeps it to the agent's cluster.
      allow(new PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: inCluster }));
      grantIndexQuery(grantee, table, ACTIVE_TASKS_INDEX);
    };
    controlTasks(selector, { observe: false });
    controlTasks(watchdog, { observe: true });

    // A sweep that fails is not retried: the next one starts a minute later, and retries would overlap it.
    watchdog.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    // A watchdog that keeps failing leaves idle or orphaned tasks running, and they bill by the second.
    watchdog
      .metricErrors({ period: Duration.minutes(15) })
      .createAlarm(this, 'RuntimeWatchdogErrors', {
        alarmDescription:
          'The runtime watchdog keeps failing: idle or orphaned agent tasks may not be stopped (and keep costing).',
        threshold: 5,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      })
      .addAlarmAction(new SnsAction(alarmTopic));
    new Rule(this, 'RuntimeWatchdogSchedule', {
      description: 'Runs the agent runtime watchdog every minute.',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(watchdog, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    // The bus, with one rule per route of bus/routing-table.ts.
    const routing = new EventRouting(this, 'Events', {
      targets: { 'runtime-selector': selector, agent: runtime.lambda, 'web-consumer': webConsumer },
      archiveRetentionDays: config.archiveRetentionDays,
      alarmAction: new SnsAction(alarmTopic),
    });
    // Each publisher may put events only with its own source: a compromised web producer cannot pose
    // as the agent and send replies to other users' connections.
    // The selector and the watchdog speak for the agent (status, the Lambda fallback's replies).
    const publishers: [IGrantable, { addEnvironment(name: string, value: string): unknown }, string][] = [
      [webProducer, webProducer, EventSources.web],
      [runtime.lambda, runtime.lambda, EventSources.agent],
      [runtime.taskDefinition.taskRole, runtime.container, EventSources.agent],
      [selector, selector, EventSources.agent],
      [watchdog, watchdog, EventSources.agent],
    ];
    for (const [publisher, configurable, source] of publishers) {
      publisher.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [routing.bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': source } },
        }),
      );
      configurable.addEnvironment('EVENT_BUS_NAME', routing.bus.eventBusName);
    }

    // The management REST API.
    const me = new NodeHandler(this, 'ApiMe', {
      entry: 'consumers/api/me.ts',
      description: 'GET /v1/me: the signed-in user and their settings.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-me' },
    });
    grantTable(me, table, 'dynamodb:GetItem');
    const http = new ChannelHttpApi(this, 'Http', {
      userPool: props.userPool,
      client: props.client,
      routes: [{ method: HttpMethod.GET, path: '/v1/me', handler: me }],
      throttling: config.throttling,
    });

    // Scheduled jobs: each schedule puts a ScheduleFired event on the bus through this role.
    const schedules = new ScheduleGroup(this, 'Schedules', {});
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'Lets EventBridge Scheduler put ScheduleFired events on the app bus.',
    });
    schedulerRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['events:PutEvents'],
        resources: [routing.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EventSources.scheduler } },
      }),
    );

    this.webSocketApi = webSocket;
    this.httpApi = http;
    this.agentRuntime = runtime;
    this.runtimeSelector = selector;
    this.runtimeWatchdog = watchdog;
    this.eventRouting = routing;
    this.webSocketUrl = webSocket.stage.url;
    this.httpApiUrl = http.api.apiEndpoint;
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketUrl });
    new CfnOutput(this, 'HttpApiUrl', { value: this.httpApiUrl });
    new CfnOutput(this, 'EventBusName', { value: routing.bus.eventBusName });
    new CfnOutput(this, 'ScheduleGroupName', { value: schedules.scheduleGroupName });
    new CfnOutput(this, 'SchedulerRoleArn', { value: schedulerRole.roleArn });
    new CfnOutput(this, 'SecretsPrefix', { value: prefix });
  }
}
