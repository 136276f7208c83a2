import { Aws, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  ACTIVE_TASK_ATTRIBUTE,
  ACTIVE_TASKS_INDEX,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../../schemas/table.ts';

/**
 * The state that must outlive every other stack: the single DynamoDB table (entities in
 * schemas/table.ts) and the bucket for session state, skills and backups. Both are retained when the
 * stack is deleted. Nothing here costs anything at rest beyond storage.
 */
/**
 * The state bucket's name, the same in every stack of a deployment (account and region are the stack's
 * own pseudo parameters). Other stacks build its ARN from this instead of importing it, which keeps their
 * IAM policies readable: `arn:aws:s3:::openclaw-prod-state-<account>-<region>/sessions/*`.
 */
export const stateBucketName = (stage: string) => `openclaw-${stage}-state-${Aws.ACCOUNT_ID}-${Aws.REGION}`;

export interface DataStackProps extends StackProps {
  stage: string;
}

export class DataStack extends Stack {
  readonly table: TableV2;
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      // On demand: no capacity to pay for while idle.
      billing: Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Sparse: only task records that are not idle, which the runtime watchdog reads each sweep.
      globalSecondaryIndexes: [
        {
          indexName: ACTIVE_TASKS_INDEX,
          partitionKey: { name: ACTIVE_TASK_ATTRIBUTE, type: AttributeType.STRING },
        },
      ],
    });

    this.bucket = new Bucket(this, 'StateBucket', {
      bucketName: stateBucketName(props.stage),
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        // Every turn writes a new session-state version; keep old ones a while for recovery, not forever.
        {
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(30),
          noncurrentVersionsToRetain: 5,
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-deleted-markers', expiredObjectDeleteMarker: true },
      ],
    });
  }
}
