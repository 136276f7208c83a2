import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { EventSources } from '../../../schemas/events.ts';
import { type DeploymentConfig, secretsPrefix } from '../config.ts';
import { AgentRuntime } from '../constructs/agent-runtime.ts';
import { EventRouting } from '../constructs/event-routing.ts';
import { ChannelHttpApi } from '../constructs/http-api.ts';
import { NodeHandler } from '../constructs/node-handler.ts';
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
 * agent on Lambda (and the Fargate cluster), the schedule group, and alarms. All pay-per-use.
 */
export class AppStack extends Stack {
  readonly webSocketUrl: string;
  readonly webSocketApi: WebSocketChatApi;
  readonly httpApi: ChannelHttpApi;
  readonly agentRuntime: AgentRuntime;
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
    table.grant(
      webProducer,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    table.grant(webConsumer, 'dynamodb:Query', 'dynamodb:DeleteItem');

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
    table.grant(
      runtime.lambda,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    // Only the session-state prefix: skills and backups are for other roles.
    runtime.lambda.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [`${stateBucketArn}/sessions/*`],
      }),
    );
    // Without ListBucket, S3 answers a GET of a missing key with 403 instead of 404, and a new user's
    // first turn could not tell "nothing saved yet" from "not allowed".
    runtime.lambda.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [stateBucketArn],
        conditions: { StringLike: { 's3:prefix': ['sessions/*'] } },
      }),
    );
    runtime.lambda.addToRolePolicy(
      new PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}*` }),
        ],
      }),
    );

    // The bus, with one rule per route of bus/routing-table.ts.
    const routing = new EventRouting(this, 'Events', {
      targets: { agent: runtime.lambda, 'web-consumer': webConsumer },
      archiveRetentionDays: config.archiveRetentionDays,
      alarmAction: new SnsAction(alarmTopic),
    });
    // Each publisher may put events only with its own source: a compromised web producer cannot pose
    // as the agent and send replies to other users' connections.
    const publishers: [NodeHandler | typeof runtime.lambda, string][] = [
      [webProducer, EventSources.web],
      [runtime.lambda, EventSources.agent],
    ];
    for (const [publisher, source] of publishers) {
      publisher.addToRolePolicy(
        new PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [routing.bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': source } },
        }),
      );
      publisher.addEnvironment('EVENT_BUS_NAME', routing.bus.eventBusName);
    }

    // The management REST API.
    const me = new NodeHandler(this, 'ApiMe', {
      entry: 'consumers/api/me.ts',
      description: 'GET /v1/me: the signed-in user and their settings.',
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'api-me' },
    });
    table.grant(me, 'dynamodb:GetItem');
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
