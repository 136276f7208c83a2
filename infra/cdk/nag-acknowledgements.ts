import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AppStack } from './stacks/app-stack.ts';
import type { AuthStack } from './stacks/auth-stack.ts';
import type { DataStack } from './stacks/data-stack.ts';
import type { WebStack } from './stacks/web-stack.ts';

interface Acknowledgement {
  /** A cdk-nag rule id, optionally narrowed to one finding: `AwsSolutions-IAM5[Action::s3:List*]`. */
  id: string;
  reason: string;
}

const BASIC_EXECUTION_POLICY =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

const PLATFORM_NAMES = { telegram: 'Telegram', discord: 'Discord', slack: 'Slack' } as const;

const acknowledge = (scope: IConstruct, list: Acknowledgement[]) => {
  for (const item of list) Validations.of(scope).acknowledge(item);
};

/** The logical id CDK gives a construct's CloudFormation resource, as cdk-nag writes it in finding names. */
function logicalIdOf(construct: IConstruct): string {
  const stack = Stack.of(construct);
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
}

/** The construct whose path ends with `suffix` (for CDK-generated singletons such as BucketDeployment's). */
function findByPath(stack: Stack, suffix: string): IConstruct[] {
  return stack.node.findAll().filter((c) => c.node.path.includes(suffix));
}

/**
 * cdk-nag (AwsSolutions) findings we accept, each with the reason a reviewer would want. Anything not
 * listed here fails `npm run synth` and the CDK tests. Most trade a paid feature for the project's goal
 * of costing (almost) nothing while idle; each says what to turn on for a stricter deployment.
 */
export function acknowledgeNagFindings(stacks: {
  data: DataStack;
  auth: AuthStack;
  main: AppStack;
  web: WebStack;
  stage: string;
}): void {
  const { data, auth, main, web, stage } = stacks;
  // cdk-nag writes the stack's region and account literally when the stack has an environment (the
  // CDK CLI always gives it one), and as pseudo parameters when it does not.
  const region = Token.isUnresolved(main.region) ? '<AWS::Region>' : main.region;
  const account = Token.isUnresolved(main.account) ? '<AWS::AccountId>' : main.account;

  acknowledge(data, [
    {
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs would need a second bucket and cost per request; CloudTrail data events can be enabled instead.',
    },
  ]);

  acknowledge(auth, [
    {
      id: 'AwsSolutions-COG2',
      reason: 'MFA (TOTP) is offered to every user but not forced; forcing it is the operator’s choice.',
    },
    {
      id: 'AwsSolutions-COG8',
      reason:
        'Threat protection needs the Cognito Plus plan (paid per user); the Lite plan keeps small deployments free.',
    },
  ]);

  acknowledge(main, [
    {
      id: `AwsSolutions-IAM4[${BASIC_EXECUTION_POLICY}]`,
      reason:
        'Lambda functions use AWSLambdaBasicExecutionRole, AWS’s minimal managed policy for writing their own logs.',
    },
    {
      id: 'AwsSolutions-APIG1',
      reason:
        'API access logs cost per request; every handler logs each request (Powertools, structured, no message text).',
    },
    {
      id: 'AwsSolutions-ECS4',
      reason:
        'Container Insights bills per task metric; agent tasks are short-lived and log through CloudWatch Logs.',
    },
    {
      id: 'AwsSolutions-SQS3',
      reason:
        'These queues are the dead-letter queues: EventBridge rule DLQs and Lambda on-failure destinations.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter/serverless-openclaw/${stage}/users/*]`,
      reason:
        'Users’ own LLM keys are one SecureString per user under users/<userId>/ (settings API): the settings API may write and delete them, the agent read them (the turn runner reads the message’s own user’s only); nothing else under the secrets path.',
    },
    {
      // Built from the AWS::AccountId/AWS::Region pseudo parameters in every stack (data-stack.ts).
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::openclaw-${stage}-state-<AWS::AccountId>-<AWS::Region>/sessions/*]`,
      reason:
        'The agent reads and writes only session state (sessions/, one object per user, not known in advance).',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::openclaw-${stage}-state-<AWS::AccountId>-<AWS::Region>/skills/*]`,
      reason:
        'Custom skills (skills/<user>/<skill>/<version>/…, not known in advance): the skills API writes and deletes them, the agent only reads them.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::openclaw-${stage}-state-<AWS::AccountId>-<AWS::Region>/media/*]`,
      reason:
        'Reply images (media/<user>/<messageId>/<n>.<ext>, not known in advance): the agent only writes them, the reply consumers only read them (each checks the key is the reply’s own user’s).',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${region}:${account}:<${logicalIdOf(main.webSocketApi.api)}>/${stage}/*/@connections/*]`,
      reason:
        'PostToConnection on any connection of this API’s one stage: connection ids are not known in advance.',
    },
  ]);

  for (const stage of [main.webSocketApi.stage, main.httpApi.node.findChild('Stage')]) {
    acknowledge(stage, [
      {
        id: 'AwsSolutions-APIG1',
        reason:
          'API access logs cost per request; every handler logs each request (Powertools, structured, no message text).',
      },
    ]);
  }
  acknowledge(main.webSocketApi.api, [
    {
      id: 'AwsSolutions-APIG4',
      reason:
        'API Gateway WebSocket APIs authorize only $connect (JWT authorizer); the other routes run on that authorized connection.',
    },
  ]);
  // Not stack-wide: an unauthenticated route anywhere else (a management route that lost its JWT
  // authorizer) must still fail the check.
  for (const channel of main.chatChannels) {
    acknowledge(channel.webhookRoute, [
      {
        id: 'AwsSolutions-APIG4',
        reason: `${PLATFORM_NAMES[channel.channel]} cannot send Cognito tokens: it signs each webhook call instead, and the producer refuses (401) any call whose signature or secret token does not verify. The stage throttling still applies.`,
      },
    ]);
  }
  acknowledge(main.agentRuntime.cluster, [
    {
      id: 'AwsSolutions-ECS4',
      reason:
        'Container Insights bills per task metric; agent tasks are short-lived and log through CloudWatch Logs.',
    },
  ]);
  acknowledge(main.agentRuntime.taskDefinition, [
    {
      id: 'AwsSolutions-ECS2',
      reason:
        'The container environment holds names (table, bus, bucket, SSM path), model settings and timings; API keys are SSM SecureStrings read at run time.',
    },
  ]);
  acknowledge(main.agentRuntime.executionRole, [
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions; the image pull itself is limited to CDK’s asset repository.',
    },
  ]);
  const agentTasks = `arn:<AWS::Partition>:ecs:${region}:${account}:task/<${logicalIdOf(main.agentRuntime.cluster)}>/*`;
  for (const handler of [main.runtimeSelector, main.runtimeWatchdog]) {
    acknowledge(handler, [
      {
        id: `AwsSolutions-IAM5[Resource::${agentTasks}]`,
        reason:
          'Stops, describes and tags (at RunTask only) the agent’s tasks in its own cluster: task ids are not known in advance.',
      },
    ]);
  }
  acknowledge(main.runtimeWatchdog, [
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecs:ListTasks has no resource-level permissions; an ecs:cluster condition keeps it to the agent’s cluster.',
    },
  ]);
  // The agent manages jobs too (its schedule tools), on Lambda and in the Fargate task.
  for (const manager of [
    ...main.jobManagers,
    main.agentRuntime.lambda,
    main.agentRuntime.taskDefinition.taskRole,
  ]) {
    acknowledge(manager, [
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${region}:${account}:schedule/${main.scheduleGroup.scheduleGroupName}/oc-*]`,
        reason:
          'Creates, updates, reads and deletes only the schedules it names oc-<user hash>-<job hash>[-r<n>], in this deployment’s own schedule group: one per job (and per retry), not known in advance.',
      },
    ]);
  }
  acknowledge(main.scheduleDeadLetterQueue, [
    {
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is a dead-letter queue: fires EventBridge Scheduler could not put on the bus after its retries.',
    },
  ]);
  for (const queue of Object.values(main.eventRouting.deadLetterQueues)) {
    acknowledge(queue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is a dead-letter queue: the rule DLQ and the Lambda on-failure destination of one target.',
      },
    ]);
  }

  acknowledge(web, [
    {
      id: 'AwsSolutions-S1',
      reason: 'The site bucket holds only the public chat bundle; CloudFront serves it.',
    },
    {
      id: 'AwsSolutions-CFR1',
      reason: 'A chat for its owner’s household or team: no geographic restriction is wanted.',
    },
    {
      id: 'AwsSolutions-CFR2',
      reason: 'AWS WAF costs at least ~$5/month; the site is static and the APIs are throttled.',
    },
    {
      id: 'AwsSolutions-CFR3',
      reason: 'Access logs for a static bundle would need a log bucket and cost per request.',
    },
    {
      id: 'AwsSolutions-CFR4',
      reason:
        'The default *.cloudfront.net certificate fixes the minimum protocol; a custom domain with TLS 1.2 can be added.',
    },
  ]);
  for (const construct of findByPath(web, 'Custom::CDKBucketDeployment')) {
    const reason =
      'CDK’s own BucketDeployment custom resource: copies the bundle into the site bucket at deploy time.';
    acknowledge(construct, [
      { id: `AwsSolutions-IAM4[${BASIC_EXECUTION_POLICY}]`, reason },
      { id: 'AwsSolutions-L1', reason: 'CDK’s own BucketDeployment custom resource picks its runtime.' },
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason,
      })),
      { id: 'AwsSolutions-IAM5[Resource::*]', reason },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${account}-${region}/*]`,
        reason,
      },
      { id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(web.node.findChild('Site'))}.Arn>/*]`, reason },
    ]);
  }
}
