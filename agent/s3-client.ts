import { S3Client } from '@aws-sdk/client-s3';
import type { S3Credentials } from './runtime/user-scoped-s3.ts';

/**
 * The agent's S3 client for the state bucket, as the session store, skills sync and reply images make it:
 * path-style when S3_FORCE_PATH_STYLE=true (s3rver), a 2 s connect timeout and the caller's request
 * timeout (so a stalled transfer ends before the deadline), and a Fargate task's user-scoped credentials
 * when given (the default chain otherwise).
 */
export function createAgentS3Client(options: { requestTimeoutMs: number; credentials?: S3Credentials }) {
  return new S3Client({
    forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true',
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: { connectionTimeout: 2_000, requestTimeout: options.requestTimeoutMs },
  });
}
