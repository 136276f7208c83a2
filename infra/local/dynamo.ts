import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { ACTIVE_TASK_ATTRIBUTE, ACTIVE_TASKS_INDEX, PARTITION_KEY, SORT_KEY } from '../../schemas/table.ts';
import { localClientConfig } from './aws-config.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

/**
 * Starts dynalite on loopback, persisted under `path` (LevelDB), and creates the app's table if it is
 * missing. dynalite has no TTL deletion and no TransactWrite: our code uses conditional writes and checks
 * `expiresAt` itself.
 */
export async function startLocalDynamo(options: { path: string; tableName: string }): Promise<LocalDynamo> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    await client.send(
      new CreateTableCommand({
        TableName: options.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: SORT_KEY, AttributeType: 'S' },
          { AttributeName: ACTIVE_TASK_ATTRIBUTE, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: SORT_KEY, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: ACTIVE_TASKS_INDEX,
            KeySchema: [{ AttributeName: ACTIVE_TASK_ATTRIBUTE, KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const { Table } = await client.send(new DescribeTableCommand({ TableName: options.tableName }));
  if (!Table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === ACTIVE_TASKS_INDEX)) {
    // A data directory from before the index: say how to recover instead of failing on the first query.
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new Error(
      `The local table in ${options.path} predates the ${ACTIVE_TASKS_INDEX} index; delete that directory (local data only) and start again.`,
    );
  }
  return {
    endpoint,
    client,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
