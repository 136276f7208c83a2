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
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LLM_KEY_NAMES } from '../../../schemas/common.ts';
import { EventSources } from '../../../schemas/events.ts';
import { ACTIVE_TASKS_INDEX } from '../../../schemas/table.ts';
import { USER_SECRETS_PATH } from '../../../schemas/user-secrets.ts';
import { type DeploymentConfig, secretsPrefix } from '../config.ts';
import { AgentRuntime } from '../constructs/agent-runtime.ts';
import { ChatChannel, type ChatChannelName } from '../constructs/chat-channel.ts';
import { EventRouting, type RoutingTargets } from '../constructs/event-routing.ts';
import { ChannelHttpApi } from '../constructs/http-api.ts';
import { Monitoring } from '../constructs/monitoring.ts';
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
 * Everything that runs: the bus and its rules, the web channel's WebSocket API, the HTTP API with the
 * enabled chat channels' webhooks, producers and consumers, the runtime selector and its watchdog, the
 * agent on Lambda and on Fargate, scheduled jobs (their API, schedule group and producer), and alarms.
 * All pay-per-use: with nobody chatting, no task runs.
 */
export class AppStack extends Stack {
  readonly webSocketUrl: string;
  readonly webSocketApi: WebSocketChatApi;
  readonly httpApi: ChannelHttpApi;
  readonly agentRuntime: AgentRuntime;
  /** What a Fargate task assumes, narrowed to its user, for S3. */
  readonly agentTaskS3Role: Role;
  readonly runtimeSelector: NodeHandler;
  readonly runtimeWatchdog: NodeHandler;
  readonly eventRouting: EventRouting;
  readonly httpApiUrl: string;
  /** The enabled chat channels (Telegram, Discord, Slack), in that order. */
  readonly chatChannels: readonly ChatChannel[];
  readonly linkCodes: NodeHandler;
  /** The bus target of `ScheduleFired.v1`: publishes the job's prompt as its owner's message. */
  readonly scheduleProducer: NodeHandler;
  /** `/v1/schedules…`: the scheduled jobs' management API. */
  readonly schedulesApi: NodeHandler;
  /** Every function that may create, change and delete the app's schedules (API, chat producers, retries). */
  readonly jobManagers: readonly NodeHandler[];
  /** `/v1/skills…`: the custom skills' management API. */
  readonly skillsApi: NodeHandler;
  /** The group every job's EventBridge Scheduler schedule lives in. */
  readonly scheduleGroup: ScheduleGroup;
  /** The role schedules assume to put `ScheduleFired` on the bus (and fires that fail into their DLQ). */
  readonly schedulerRole: Role;
  /** Fires EventBridge Scheduler could not put on the bus, after its retries. */
  readonly scheduleDeadLetterQueue: Queue;
  /** Keeps the conversation history (routing-table target `history`). */
  readonly historyConsumer: NodeHandler;
  /** `/v1/conversations`. */
  readonly conversationsApi: NodeHandler;
  /** `/v1/settings`. */
  readonly settingsApi: NodeHandler;
  /** `/v1/channels`. */
  readonly channelsApi: NodeHandler;
  /** The consumers that deliver replies (web and each enabled chat channel); they read reply images. */
  readonly replyConsumers: readonly NodeHandler[];

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

    // The deployment's default LLM: names and settings only, the key stays in SSM.
    const llmEnvironment = {
      OPENCLAW_LLM_PROVIDER: config.llm.provider,
      OPENCLAW_LLM_API: config.llm.api,
      OPENCLAW_LLM_MODEL: config.llm.model,
      ...(config.llm.baseUrl ? { OPENCLAW_LLM_BASE_URL: config.llm.baseUrl } : {}),
      ...(config.llm.apiKeyRef ? { OPENCLAW_LLM_API_KEY_REF: config.llm.apiKeyRef } : {}),
    };

    // The agent.
    const runtime = new AgentRuntime(this, 'Agent', {
      config,
      environment: {
        ...common,
        STATE_BUCKET: stateBucket,
        SECRETS_PREFIX: prefix,
        POWERTOOLS_SERVICE_NAME: 'agent',
        ...llmEnvironment,
      },
    });
    // A Fargate task serves one user, so its S3 access is that user's only: the task role has no S3
    // rights, it assumes this role with a session policy naming its user's prefixes
    // (agent/runtime/user-scoped-s3.ts), and a session can do only what both allow. The agent Lambda
    // serves every user and keeps the prefix-wide rights itself.
    const taskS3Role = new Role(this, 'AgentTaskS3Role', {
      assumedBy: runtime.taskDefinition.taskRole,
      description: 'S3 for one agent task, narrowed to its user by the session policy it assumes this with',
    });
    taskS3Role.grantAssumeRole(runtime.taskDefinition.taskRole);
    runtime.container.addEnvironment('AGENT_S3_ROLE_ARN', taskS3Role.roleArn);
    this.agentTaskS3Role = taskS3Role;
    // The same access on Lambda and in the Fargate task: turns, locks, task state, the user's queue
    // (Query), session state and the LLM keys. The task role gets no ECS permission at all.
    for (const [agentPrincipal, s3Principal] of [
      [runtime.lambda, runtime.lambda],
      [runtime.taskDefinition.taskRole, taskS3Role],
    ] as const) {
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
      const allowS3 = (statement: PolicyStatement) =>
        s3Principal.grantPrincipal.addToPrincipalPolicy(statement);
      // Only the session-state prefix: skills and backups are for other roles.
      allowS3(
        new PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [`${stateBucketArn}/sessions/*`],
        }),
      );
      // Reply images (screenshots, MEDIA: files) go to media/<userId>/ for the consumers; write only.
      allowS3(new PolicyStatement({ actions: ['s3:PutObject'], resources: [`${stateBucketArn}/media/*`] }));
      // Without ListBucket, S3 answers a GET of a missing key with 403 instead of 404, and a new user's
      // first turn could not tell "nothing saved yet" from "not allowed".
      allowS3(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [stateBucketArn],
          conditions: { StringLike: { 's3:prefix': ['sessions/*', 'skills/*'] } },
        }),
      );
      // Custom skills: read only, the API writes them. The Lambda serves every user, so IAM cannot narrow
      // its rights to one user's prefix; the sync reads only the turn's user's items and keys
      // (agent/skills-sync.ts). A task's session policy narrows them to its user.
      allowS3(new PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/skills/*`] }));
      // LLM keys only: the agent runs tools (and a browser) on a user's behalf, so the chat bots' tokens
      // and signing secrets under the same prefix must stay out of its reach.
      // Users' own keys (settings page) live under users/<userId>/; the turn runner reads only the
      // message's own user's (IAM cannot tell users apart inside one agent role).
      const keyNames = new Set<string>([
        ...LLM_KEY_NAMES,
        `${USER_SECRETS_PATH}*`,
        ...(config.llm.apiKeyRef ? [config.llm.apiKeyRef] : []),
      ]);
      allow(
        new PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [...keyNames].map((name) =>
            this.formatArn({
              service: 'ssm',
              resource: 'parameter',
              resourceName: `${prefix.slice(1)}${name}`,
            }),
          ),
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

    // The management REST API (signed in) and, below, the chat platforms' webhooks (signed by them).
    const me = new NodeHandler(this, 'ApiMe', {
      entry: 'consumers/api/me.ts',
      description: 'GET /v1/me: the signed-in user and their settings.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-me' },
    });
    grantTable(me, table, 'dynamodb:GetItem');
    const linkCodes = new NodeHandler(this, 'ApiLinkCodes', {
      entry: 'consumers/api/link-codes.ts',
      description: 'POST /v1/link-codes: a one-time code that links a chat account to the signed-in user.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-link-codes' },
    });
    // It only writes LinkCode items (never overwriting a live one: a conditional put).
    grantTable(linkCodes, table, 'dynamodb:PutItem');
    // Scheduled jobs: the API keeps each job in the table and as one EventBridge Scheduler schedule; its
    // scheduler settings (group, bus, role, dead-letter queue) are added below, once they exist.
    const schedulesApi = new NodeHandler(this, 'ApiSchedules', {
      entry: 'consumers/api/schedules.ts',
      description:
        '/v1/schedules: the signed-in user’s scheduled jobs, kept in sync with EventBridge Scheduler.',
      // A change is a table write plus a Scheduler call, and its undo when Scheduler refuses.
      timeout: Duration.seconds(15),
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-schedules' },
    });
    // Jobs are items under the user's partition: read, conditional put, delete, and a Query to list them.
    grantTable(
      schedulesApi,
      table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    );
    const scheduleRoutes: [HttpMethod, string][] = [
      [HttpMethod.GET, '/v1/schedules'],
      [HttpMethod.POST, '/v1/schedules'],
      [HttpMethod.GET, '/v1/schedules/{jobId}'],
      [HttpMethod.PATCH, '/v1/schedules/{jobId}'],
      [HttpMethod.DELETE, '/v1/schedules/{jobId}'],
      [HttpMethod.POST, '/v1/schedules/{jobId}/pause'],
      [HttpMethod.POST, '/v1/schedules/{jobId}/resume'],
    ];
    // Custom skills: Skill items under the user's partition and their files under skills/ in the state
    // bucket (written, and deleted when replaced or removed; never read back by the API).
    const skillsApi = new NodeHandler(this, 'ApiSkills', {
      entry: 'consumers/api/skills.ts',
      description: '/v1/skills: the signed-in user’s custom skills (upload, list, enable, delete).',
      // An upload is up to 100 small S3 puts and a table write.
      timeout: Duration.seconds(20),
      memorySize: 512,
      environment: { ...common, STATE_BUCKET: stateBucket, POWERTOOLS_SERVICE_NAME: 'api-skills' },
    });
    grantTable(
      skillsApi,
      table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    );
    skillsApi.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [`${stateBucketArn}/skills/*`],
      }),
    );
    const skillRoutes: [HttpMethod, string][] = [
      [HttpMethod.GET, '/v1/skills'],
      [HttpMethod.POST, '/v1/skills'],
      [HttpMethod.PATCH, '/v1/skills/{name}'],
      [HttpMethod.DELETE, '/v1/skills/{name}'],
    ];
    const management = this.addManagementApi(table, prefix, llmEnvironment, common);
    const http = new ChannelHttpApi(this, 'Http', {
      userPool: props.userPool,
      client: props.client,
      routes: [
        { method: HttpMethod.GET, path: '/v1/me', handler: me },
        { method: HttpMethod.POST, path: '/v1/link-codes', handler: linkCodes },
        ...scheduleRoutes.map(([method, path]) => ({ method, path, handler: schedulesApi })),
        ...skillRoutes.map(([method, path]) => ({ method, path, handler: skillsApi })),
        ...management.routes,
      ],
      throttling: config.throttling,
    });

    const channels = this.addChatChannels(config, table, http, prefix, llmEnvironment);

    // The schedule producer: a fired schedule becomes its owner's MessageReceived (deduped per fire).
    const scheduleProducer = new NodeHandler(this, 'ScheduleProducer', {
      entry: 'producers/schedule/lambda.ts',
      description: 'ScheduleFired: checks the job, dedupes the fire, publishes the owner’s MessageReceived.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'schedule-producer' },
    });
    // Item operations only: the dedupe claim (put, update, delete on release) and the job (get, and delete
    // after a one-time job's fire).
    grantTable(
      scheduleProducer,
      table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );

    // The bus, with one rule per route of bus/routing-table.ts whose target is deployed.
    const targets: RoutingTargets = {
      'runtime-selector': selector,
      agent: runtime.lambda,
      'web-consumer': webConsumer,
      'schedule-producer': scheduleProducer,
      history: management.history,
    };
    for (const channel of channels) targets[channel.targetId] = channel.consumer;
    // Reply images (schemas/reply-media.ts): the agent writes them under media/, and each channel's
    // consumer reads them to send (the web one presigns a GET, which its own role's access backs).
    this.replyConsumers = [webConsumer, ...channels.map((channel) => channel.consumer)];
    for (const consumer of this.replyConsumers) {
      consumer.addEnvironment('STATE_BUCKET', stateBucket);
      consumer.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/media/*`] }),
      );
    }
    const routing = new EventRouting(this, 'Events', {
      targets,
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
      [scheduleProducer, scheduleProducer, EventSources.schedule],
      ...channels.map((channel): [IGrantable, NodeHandler, string] => [
        channel.producer,
        channel.producer,
        channel.source,
      ]),
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

    // Scheduled jobs: each job is one schedule in this group, putting a ScheduleFired event on the bus
    // through this role. Nothing runs (or bills) between fires.
    const schedules = new ScheduleGroup(this, 'Schedules', {});
    // Fires the bus refused after Scheduler's own retries (RetryPolicy of each schedule).
    const scheduleDlq = new Queue(this, 'ScheduleFiresDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    scheduleDlq
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) })
      .createAlarm(this, 'ScheduleFiresDlqAlarm', {
        alarmDescription:
          'Scheduled jobs fired but EventBridge Scheduler could not put them on the bus; they wait in its dead-letter queue.',
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      })
      .addAlarmAction(new SnsAction(alarmTopic));
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
    // Scheduler sends a fire it could not deliver to the schedule's DLQ with the schedule's own role.
    schedulerRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['sqs:SendMessage'],
        resources: [scheduleDlq.queueArn],
      }),
    );

    // Everything that manages jobs creates, changes and deletes our schedules only: those named
    // oc-<user>-<job>[-r<n>] (producers/schedule/aws-scheduler.ts) in this group, and hands them this role
    // only. The schedules API and the chat producers (`/schedule`) manage jobs; the schedule producer
    // creates the one-time schedules that retry a failed run.
    const jobManagers: NodeHandler[] = [
      schedulesApi,
      scheduleProducer,
      webProducer,
      ...channels.map((channel) => channel.producer),
    ];
    // `/schedules` lists the user's jobs (one Query on the user's partition); the chat producers' other
    // job-store calls are item operations they already have.
    for (const channel of channels) grantTable(channel.producer, table, 'dynamodb:Query');
    grantTable(webProducer, table, 'dynamodb:Query');
    // The agent manages jobs too, through its schedule tools (agent/tools/schedule-tools.ts): on Lambda
    // and in the Fargate task alike, with the same rights as the other job managers.
    const jobManagerTargets: [IGrantable, { addEnvironment(name: string, value: string): unknown }][] = [
      ...jobManagers.map((manager) => [manager, manager] as [IGrantable, NodeHandler]),
      [runtime.lambda, runtime.lambda],
      [runtime.taskDefinition.taskRole, runtime.container],
    ];
    for (const [manager, environment] of jobManagerTargets) {
      environment.addEnvironment('SCHEDULE_GROUP_NAME', schedules.scheduleGroupName);
      environment.addEnvironment('EVENT_BUS_ARN', routing.bus.eventBusArn);
      environment.addEnvironment('SCHEDULER_ROLE_ARN', schedulerRole.roleArn);
      environment.addEnvironment('SCHEDULE_DLQ_ARN', scheduleDlq.queueArn);
      manager.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [
            'scheduler:CreateSchedule',
            'scheduler:UpdateSchedule',
            'scheduler:DeleteSchedule',
            'scheduler:GetSchedule',
          ],
          resources: [
            this.formatArn({
              service: 'scheduler',
              resource: 'schedule',
              resourceName: `${schedules.scheduleGroupName}/oc-*`,
            }),
          ],
        }),
      );
      manager.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }

    new Monitoring(this, 'Monitoring', {
      config,
      alarmAction: new SnsAction(alarmTopic),
      agentFunction: runtime.lambda,
      selector,
      watchdog,
      agentContainer: runtime.container,
      taskLogGroup: runtime.taskLogGroup,
    });
    this.webSocketApi = webSocket;
    this.httpApi = http;
    this.agentRuntime = runtime;
    this.runtimeSelector = selector;
    this.runtimeWatchdog = watchdog;
    this.eventRouting = routing;
    this.chatChannels = channels;
    this.linkCodes = linkCodes;
    this.scheduleProducer = scheduleProducer;
    this.schedulesApi = schedulesApi;
    this.jobManagers = jobManagers;
    this.skillsApi = skillsApi;
    this.scheduleGroup = schedules;
    this.schedulerRole = schedulerRole;
    this.scheduleDeadLetterQueue = scheduleDlq;
    this.historyConsumer = management.history;
    this.conversationsApi = management.conversations;
    this.settingsApi = management.settings;
    this.channelsApi = management.channels;
    this.webSocketUrl = webSocket.stage.url;
    this.httpApiUrl = http.api.apiEndpoint;
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketUrl });
    new CfnOutput(this, 'HttpApiUrl', { value: this.httpApiUrl });
    new CfnOutput(this, 'EventBusName', { value: routing.bus.eventBusName });
    new CfnOutput(this, 'ScheduleGroupName', { value: schedules.scheduleGroupName });
    new CfnOutput(this, 'SchedulerRoleArn', { value: schedulerRole.roleArn });
    new CfnOutput(this, 'SecretsPrefix', { value: prefix });
    for (const channel of channels) {
      // What to give set-webhook, the Discord portal or the Slack manifest.
      const name = channel.channel[0]!.toUpperCase() + channel.channel.slice(1);
      new CfnOutput(this, `${name}WebhookUrl`, { value: `${this.httpApiUrl}/webhooks/${channel.channel}` });
    }
  }

  /**
   * The web experience's management API (history, settings, linked channels), one function per area with
   * only the item operations it performs, and the history consumer that feeds the history.
   */
  private addManagementApi(
    table: TableV2,
    prefix: string,
    llmEnvironment: Record<string, string>,
    common: Record<string, string>,
  ) {
    const history = new NodeHandler(this, 'HistoryConsumer', {
      entry: 'consumers/history/handler.ts',
      description: 'Keeps each conversation’s messages and completed replies for the history.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'history' },
    });
    // Upserts only (and the tombstone read); it never deletes and never lists.
    grantTable(history, table, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    const conversations = new NodeHandler(this, 'ApiConversations', {
      entry: 'consumers/api/conversations.ts',
      description: '/v1/conversations: list, open and delete the signed-in user’s conversations.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-conversations' },
    });
    // Query to list and open; the tombstone put and the deletes for DELETE.
    grantTable(
      conversations,
      table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    );
    const settings = new NodeHandler(this, 'ApiSettings', {
      entry: 'consumers/api/settings.ts',
      description:
        '/v1/settings: the signed-in user’s LLM (key write-only, in SSM), runtime and idle timeout.',
      environment: {
        ...common,
        ...llmEnvironment,
        SECRETS_PREFIX: prefix,
        POWERTOOLS_SERVICE_NAME: 'api-settings',
      },
    });
    grantTable(settings, table, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // Write and delete users' keys, never read them: the API only ever says whether one is set.
    settings.addToRolePolicy(
      new PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:DeleteParameter'],
        resources: [
          this.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: `${prefix.slice(1)}${USER_SECRETS_PATH}*`,
          }),
        ],
      }),
    );
    const channels = new NodeHandler(this, 'ApiChannels', {
      entry: 'consumers/api/channels.ts',
      description: '/v1/channels: the chat accounts linked to the signed-in user, and unlinking them.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-channels' },
    });
    grantTable(channels, table, 'dynamodb:DeleteItem', 'dynamodb:Query');
    const routes: { method: HttpMethod; path: string; handler: NodeHandler }[] = [
      { method: HttpMethod.GET, path: '/v1/conversations', handler: conversations },
      { method: HttpMethod.GET, path: '/v1/conversations/{conversationId}', handler: conversations },
      { method: HttpMethod.DELETE, path: '/v1/conversations/{conversationId}', handler: conversations },
      { method: HttpMethod.GET, path: '/v1/settings', handler: settings },
      { method: HttpMethod.PUT, path: '/v1/settings', handler: settings },
      { method: HttpMethod.GET, path: '/v1/channels', handler: channels },
      { method: HttpMethod.DELETE, path: '/v1/channels/{channel}/{channelUserId}', handler: channels },
    ];
    return { history, conversations, settings, channels, routes };
  }

  /**
   * The chat channels enabled in `config.channels`: each one's webhook, producer and consumer, told what
   * their lambda.ts reads (docs/channels/*.md) and allowed exactly the secrets they read.
   */
  private addChatChannels(
    config: DeploymentConfig,
    table: TableV2,
    httpApi: ChannelHttpApi,
    prefix: string,
    llmEnvironment: Record<string, string>,
  ): ChatChannel[] {
    /** Only this channel's allow-listed accounts (`telegram:…`); unset when there are none. */
    const allowedUsers = (channel: ChatChannelName) =>
      config.allowedUsers.filter((user) => user.startsWith(`${channel}:`)).join(',') || undefined;
    const shared = { table, httpApi, secretsPrefix: prefix };
    const channels: ChatChannel[] = [];
    if (config.channels.telegram) {
      channels.push(
        new ChatChannel(this, 'Telegram', {
          ...shared,
          channel: 'telegram',
          producer: {
            description: 'POST /webhooks/telegram: checks the secret token, publishes MessageReceived.',
            // A cold start must not make Telegram retry (it does after a slow or failed answer).
            memorySize: 512,
            environment: {
              ALLOWED_USERS: allowedUsers('telegram'),
              WEB_APP_URL: config.webAppUrl,
              TELEGRAM_BOT_USERNAME: config.telegram.botUsername,
              // For /status and /model: the deployment's defaults.
              DEFAULT_RUNTIME: config.defaultRuntime,
              ...llmEnvironment,
            },
            secrets: ['TELEGRAM_WEBHOOK_SECRET'],
          },
          consumer: {
            description: 'Sends replies to Telegram chats, streaming by message edits.',
            secrets: ['TELEGRAM_BOT_TOKEN'],
          },
        }),
      );
    }
    if (config.channels.discord) {
      channels.push(
        new ChatChannel(this, 'Discord', {
          ...shared,
          channel: 'discord',
          producer: {
            description:
              'POST /webhooks/discord: verifies the Ed25519 signature, defers, publishes MessageReceived.',
            // Discord gives up after 3 s, cold start included; CPU scales with memory.
            memorySize: 512,
            environment: { ALLOWED_USERS: allowedUsers('discord'), WEB_APP_URL: config.webAppUrl },
            secrets: ['DISCORD_PUBLIC_KEY'],
          },
          consumer: {
            description:
              'Answers Discord interactions through their webhook, or the channel after 15 minutes.',
            secrets: ['DISCORD_BOT_TOKEN'],
          },
        }),
      );
    }
    if (config.channels.slack) {
      channels.push(
        new ChatChannel(this, 'Slack', {
          ...shared,
          channel: 'slack',
          producer: {
            description:
              'POST /webhooks/slack: verifies the signature, publishes MessageReceived (events, /openclaw).',
            // Slack retries an event that is not acknowledged within 3 s.
            memorySize: 512,
            environment: {
              ALLOWED_USERS: allowedUsers('slack'),
              SLACK_COMMAND: config.slack.command,
              SLACK_BOT_USER_ID: config.slack.botUserId,
            },
            // The bot token sends strangers their private linking note.
            secrets: ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN'],
          },
          consumer: {
            description: 'Posts replies in Slack threads, streaming by chat.update.',
            secrets: ['SLACK_BOT_TOKEN'],
          },
        }),
      );
    }
    return channels;
  }
}
