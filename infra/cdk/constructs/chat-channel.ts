import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TargetId } from '../../../bus/routing-table.ts';
import { EventSources } from '../../../schemas/events.ts';
import type { ChannelHttpApi } from './http-api.ts';
import { NodeHandler } from './node-handler.ts';
import { grantTable } from './table-access.ts';

export type ChatChannelName = 'telegram' | 'discord' | 'slack';

/** One of the channel's two functions: what it is told, and the SSM secrets it may read. */
export interface ChannelFunctionProps {
  description: string;
  /**
   * Plain settings (names, ids, URLs), never a secret; undefined ones are left out. TABLE_NAME and
   * SECRETS_PREFIX are added.
   */
  environment?: Record<string, string | undefined>;
  /** Names of the SSM SecureStrings under the secrets prefix it reads, e.g. `TELEGRAM_BOT_TOKEN`. */
  secrets: readonly string[];
  /** @default 256 */
  memorySize?: number;
  /** @default 10 seconds */
  timeout?: Duration;
}

export interface ChatChannelProps {
  channel: ChatChannelName;
  table: ITableV2;
  httpApi: ChannelHttpApi;
  /** SSM path of the deployment's secrets, with both slashes: `/serverless-openclaw/<stage>/`. */
  secretsPrefix: string;
  /** `producers/<channel>/lambda.ts`, behind `POST /webhooks/<channel>`. */
  producer: ChannelFunctionProps;
  /** `consumers/<channel>/lambda.ts`, the bus target `<channel>-consumer`. */
  consumer: ChannelFunctionProps;
}

/**
 * A chat channel on AWS: its webhook route on the HTTP API (no JWT: the platform signs its requests and
 * the producer verifies the signature), the producer behind it, and the consumer the bus sends the
 * channel's replies to. Each function may touch table items (never the index) and read exactly its own
 * secrets. The producer's right to publish, under its own source only, is granted with the other
 * publishers' in the app stack, once the bus exists (it needs `consumer` as a target first).
 */
export class ChatChannel extends Construct {
  readonly channel: ChatChannelName;
  readonly producer: NodeHandler;
  readonly consumer: NodeHandler;
  readonly webhookRoute: HttpRoute;
  /** The bus target id of `consumer` in bus/routing-table.ts. */
  readonly targetId: TargetId & `${ChatChannelName}-consumer`;
  /** The only `source` the producer may publish under. */
  readonly source: (typeof EventSources)[ChatChannelName];

  constructor(scope: Construct, id: string, props: ChatChannelProps) {
    super(scope, id);
    const { channel, table, secretsPrefix } = props;
    const stack = Stack.of(this);
    const build = (kind: 'producer' | 'consumer', spec: ChannelFunctionProps) => {
      const fn = new NodeHandler(this, kind === 'producer' ? 'Producer' : 'Consumer', {
        entry: `${kind}s/${channel}/lambda.ts`,
        description: spec.description,
        ...(spec.memorySize ? { memorySize: spec.memorySize } : {}),
        ...(spec.timeout ? { timeout: spec.timeout } : {}),
        environment: {
          TABLE_NAME: table.tableName,
          SECRETS_PREFIX: secretsPrefix,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          POWERTOOLS_SERVICE_NAME: `${channel}-${kind}`,
          ...definedOnly(spec.environment ?? {}),
        },
      });
      // Both sides use item operations only: dedupe, identity, conversations, settings, reply progress.
      grantTable(
        fn,
        table,
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      );
      // Exactly the named parameters, no wildcard. SecureStrings encrypted with the AWS-managed aws/ssm
      // key need no KMS grant: that key's policy lets SSM decrypt for any principal of the account.
      if (spec.secrets.length > 0) {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['ssm:GetParameter'],
            resources: spec.secrets.map((name) =>
              stack.formatArn({
                service: 'ssm',
                resource: 'parameter',
                resourceName: `${secretsPrefix.replace(/^\//, '')}${name}`,
              }),
            ),
          }),
        );
      }
      return fn;
    };

    this.channel = channel;
    this.producer = build('producer', props.producer);
    this.consumer = build('consumer', {
      ...props.consumer,
      // Platform rate limits are waited out inline and long replies go out in several messages.
      timeout: props.consumer.timeout ?? Duration.seconds(60),
    });
    this.webhookRoute = props.httpApi.addWebhook(channel, this.producer);
    this.targetId = `${channel}-consumer`;
    this.source = EventSources[channel];
  }
}

const definedOnly = (environment: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
