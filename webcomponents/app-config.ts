/** What the app page needs to know about the deployment. */
export interface AppConfig {
  /** WebSocket endpoint of the chat. @default `/ws` on the page's host */
  wsUrl?: string;
  /** Base URL of the REST API. @default the page's origin */
  apiUrl?: string;
  /** Where to sign in; absent: no sign-in (a local server without an issuer). */
  auth?: { endpoint: string; clientId: string };
  /** Page and chat title. @default 'OpenClaw' */
  title?: string;
}

/** The `config.json` the web stack uploads on AWS (infra/cdk/stacks/web-stack.ts). */
interface WebStackConfig {
  webSocketUrl?: string;
  httpApiUrl?: string;
  region?: string;
  userPoolClientId?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * Reads either shape: ours (`{wsUrl, apiUrl, auth: {endpoint, clientId}}`) or the web stack's
 * `config.json` (`{webSocketUrl, httpApiUrl, region, userPoolClientId}`, whose sign-in endpoint is the
 * region's Cognito user-pool API). Unknown fields are ignored; wrong types count as absent.
 */
export function normalizeAppConfig(raw: unknown): AppConfig {
  const input = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown> & WebStackConfig;
  const auth = (input.auth && typeof input.auth === 'object' ? input.auth : {}) as Record<string, unknown>;
  const region = str(input.region);
  const endpoint =
    str(auth.endpoint) ??
    (region && /^[a-z0-9-]+$/.test(region) ? `https://cognito-idp.${region}.amazonaws.com/` : undefined);
  const clientId = str(auth.clientId) ?? str(input.userPoolClientId);
  const wsUrl = str(input.wsUrl) ?? str(input.webSocketUrl);
  const apiUrl = str(input.apiUrl) ?? str(input.httpApiUrl);
  const title = str(input.title);
  return {
    ...(wsUrl ? { wsUrl } : {}),
    ...(apiUrl ? { apiUrl } : {}),
    ...(endpoint && clientId ? { auth: { endpoint, clientId } } : {}),
    ...(title ? { title } : {}),
  };
}
