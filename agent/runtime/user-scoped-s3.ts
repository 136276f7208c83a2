import { createHash } from 'node:crypto';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { replyMediaUserPrefix } from '../../schemas/reply-media.ts';
import { skillUserPrefix } from '../../schemas/skill-storage.ts';
import { sessionUserPrefix } from '../session-store.ts';

/*
 * A Fargate task serves one user, but every task shares one task role. So that the task's S3 access is
 * that user's and no one else's, the task role itself has no S3 rights: it may only assume the agent's S3
 * role, and it does so with a session policy naming its user's prefixes. What a session may do is the
 * intersection of the role's policy and the session policy, so S3 refuses any key of another user, even
 * if our code (or a tool) asked for one.
 *
 * What this does not stop: code that runs in the container with the task role's own credentials could
 * assume the role again with another user's prefixes. The agent's tool set offers no code execution, and
 * the browser cannot reach the credentials endpoint (agent/browser/chromium-guard-args.ts).
 */

/** What the S3 clients take as `credentials`. */
export type S3Credentials = ReturnType<typeof fromTemporaryCredentials>;

/** The role session's lifetime; the SDK refreshes the credentials before they run out. */
const SESSION_SECONDS = 3600;

/** `arn:<partition>:s3:::<bucket>`, in the partition of `roleArn` (aws, aws-cn, aws-us-gov). */
function bucketArnFor(roleArn: string, bucket: string): string {
  const partition = roleArn.split(':')[1];
  if (!roleArn.startsWith('arn:') || !partition) throw new Error('the agent S3 role is not an ARN');
  return `arn:${partition}:s3:::${bucket}`;
}

/**
 * The session policy for one user: their saved state (read and write), their custom skills (read) and
 * their reply images (write), and listing only under their own prefixes (without a ListBucket right, S3
 * answers a GET of a missing key with 403 instead of 404).
 */
export function userS3SessionPolicy(bucketArn: string, userId: string): string {
  const sessions = sessionUserPrefix(userId);
  const skills = skillUserPrefix(userId);
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${bucketArn}/${sessions}*` },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/${skills}*` },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucketArn}/${replyMediaUserPrefix(userId)}*` },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        Condition: { StringLike: { 's3:prefix': [`${sessions}*`, `${skills}*`] } },
      },
    ],
  });
}

export interface UserScopedS3Options {
  /** The role the task may assume (AGENT_S3_ROLE_ARN). */
  roleArn: string;
  bucket: string;
  userId: string;
  /** Settings of the STS client (region, endpoint, the credentials it signs with); the environment's otherwise. */
  stsConfig?: NonNullable<Parameters<typeof fromTemporaryCredentials>[0]['clientConfig']>;
}

/** Credentials that reach only `userId`'s prefixes of the state bucket, renewed by the SDK as they age. */
export function userScopedS3Credentials(options: UserScopedS3Options): S3Credentials {
  return fromTemporaryCredentials({
    params: {
      RoleArn: options.roleArn,
      // Seen in CloudTrail: a digest, so the user id stays out of it (as out of ECS metadata).
      RoleSessionName: `agent-${createHash('sha256').update(options.userId).digest('hex').slice(0, 32)}`,
      Policy: userS3SessionPolicy(bucketArnFor(options.roleArn, options.bucket), options.userId),
      DurationSeconds: SESSION_SECONDS,
    },
    ...(options.stsConfig ? { clientConfig: options.stsConfig } : {}),
  });
}

/**
 * The task's S3 credentials: scoped to its user when the deployment names the agent's S3 role
 * (AGENT_S3_ROLE_ARN, set by the CDK app), else undefined — the default chain, as in local mode, where
 * there is no STS and s3rver knows one key pair.
 */
export function userScopedS3CredentialsFromEnv(
  userId: string,
  env: NodeJS.ProcessEnv = process.env,
): S3Credentials | undefined {
  const roleArn = env.AGENT_S3_ROLE_ARN;
  if (!roleArn) return undefined;
  const bucket = env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET');
  return userScopedS3Credentials({ roleArn, bucket, userId });
}
