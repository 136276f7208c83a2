import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { ACTIVE_TASK_ATTRIBUTE, ACTIVE_TASKS_INDEX, PARTITION_KEY, SORT_KEY } from '../../schemas/table.ts';
import { localClientConfig } from './aws-config.ts';

/** Starts dynalite in its own worker thread (see dynamo-worker.ts); resolves with its port and a stop. */
async function startDynaliteWorker(path: string): Promise<{ port: number; stop(): Promise<void> }> {
  const worker = new Worker(new URL('./dynamo-worker.ts', import.meta.url), { workerData: { path } });
  const [ready] = (await Promise.race([
    once(worker, 'message'),
    once(worker, 'error').then(([error]) => Promise.reject(error)),
  ])) as [{ port?: number; error?: string }];
  if (!ready.port) {
    await worker.terminate();
    throw new Error(`dynalite did not start: ${ready.error ?? 'no port'}`);
  }
  return {
    port: ready.port,
    async stop() {
      const closed = once(worker, 'message');
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

/**
 * Starts dynalite on loopback in a worker thread, persisted under `path` (LevelDB), and creates the app's
 * table if it is missing. dynalite has no TTL deletion and no TransactWrite: our code uses conditional
 * writes and checks `expiresAt` itself.
 */
export async function startLocalDynamo(options: { path: string; tableName: string }): Promise<LocalDynamo> {
  const dynalite = await startDynaliteWorker(options.path);
  const endpoint = `http://127.0.0.1:${dynalite.port}`;
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
    await dynalite.stop();
    throw new Error(
      `The local table in ${options.path} predates the ${ACTIVE_TASKS_INDEX} index; delete that directory (local data only) and start again.`,
    );
  }
  return {
    endpoint,
    client,
    async close() {
      client.destroy();
      await dynalite.stop();
    },
  };
}
