/** Client settings for talking to the local stand-ins: fixed dummy credentials and a loopback endpoint. */
export const LOCAL_REGION = 'us-east-1';
// s3rver accepts only its own built-in key pair; the other stand-ins accept anything.
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export function localClientConfig(endpoint: string) {
  return { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint, maxAttempts: 3 };
}
