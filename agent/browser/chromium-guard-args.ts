// Defence in depth under OpenClaw's SSRF policy. OpenClaw checks the URL the agent asks to open (and
// resolves its hostname), but its docs say Playwright routing "does not intercept redirect hops, a
// popup's first request, Service Worker traffic, … or every background/subresource path". Chromium's own
// host resolver rules apply to every request the browser makes, so a page (or a redirect) on a public
// host still cannot make it fetch the metadata endpoint, loopback or a private range by IP literal.
//
// Measured with Debian's Chromium 1xx (agent/browser/chromium-guard-args.test.ts): a MAP pattern with a
// ':' is matched against "host:port", so `*:*` would block every URL; `[*]:*` matches IPv6 literals only.
// Limits: the rules match the host as written (after URL canonicalisation, so `http://2852039166/` is
// 169.254.169.254), not the address a hostname resolves to. A wildcard like `10.*` also catches a
// hostname such as `10.example.com`.

/** IPv4 ranges that must never be fetched, as Chromium host patterns. */
const BLOCKED_IPV4_PATTERNS = [
  '0.*', // "this network"; 0.0.0.0 reaches local listeners on Linux
  '10.*',
  '127.*',
  '169.254.*', // link-local: EC2 metadata 169.254.169.254, ECS task metadata/credentials 169.254.170.2
  '192.168.*',
  '192.0.0.*',
  '198.18.*',
  '198.19.*',
  ...Array.from({ length: 16 }, (_, i) => `172.${16 + i}.*`),
  ...Array.from({ length: 64 }, (_, i) => `100.${64 + i}.*`), // carrier-grade NAT 100.64/10
];

/** Names that mean "this machine" or a cloud metadata service. */
const BLOCKED_NAMES = ['localhost', '*.localhost', 'metadata.google.internal', 'instance-data'];

/**
 * Chromium flags that make blocked hosts fail to resolve, for every request the browser makes.
 * `allowed` hosts (exact, as in `browser.ssrfPolicy.allowedHostnames`) are exempt.
 */
export function chromiumGuardArgs(allowed: readonly string[]): string[] {
  const rules = [
    ...allowed.map((host) => `EXCLUDE ${host}`),
    // Every IPv6 literal: loopback, ULA, link-local and IPv4-mapped forms alike. Hostnames with AAAA
    // records are unaffected (rules match the URL's host, not resolved addresses).
    'MAP [*]:* ~NOTFOUND',
    ...[...BLOCKED_IPV4_PATTERNS, ...BLOCKED_NAMES].map((pattern) => `MAP ${pattern} ~NOTFOUND`),
  ];
  return [`--host-resolver-rules=${rules.join(', ')}`];
}
