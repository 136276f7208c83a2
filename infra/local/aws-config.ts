import { Agent } from 'node:http';

/** Client settings for talking to the local stand-ins: fixed dummy credentials and a loopback endpoint. */
export const LOCAL_REGION = 'us-east-1';
// s3rver accepts only its own built-in key pair; the other stand-ins accept anything.
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Sockets per client and stand-in. Every handler of the local stack shares one DynamoDB client, so 50
 * conversations have more calls in flight than the SDK's default pool of 50, and the rest would queue
 * behind them; on loopback, kept-alive sockets are cheap.
 */
export const LOCAL_MAX_SOCKETS = 256;

export function localClientConfig(endpoint: string) {
  return {
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint,
    maxAttempts: 3,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: LOCAL_MAX_SOCKETS }) },
  };
}
