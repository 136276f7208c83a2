/** Client settings for talking to the local stand-ins: fixed dummy credentials and a loopback endpoint. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret' };

export function localClientConfig(endpoint: string) {
  return { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint, maxAttempts: 3 };
}
