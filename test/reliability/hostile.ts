import fc from 'fast-check';

/** Keys that pollute prototypes when code merges untrusted objects naively. */
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

/** `depth` nested arrays or objects: breaks recursive parsers and validators without being big. */
export const deepJson = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Bodies around and far above the limits (256 KB webhooks, 1 MiB HTTP API). */
export const hugeText = fc
  .constantFrom(4_097, 70_000, 256 * 1024 + 1, 1024 * 1024 + 1, 2 * 1024 * 1024)
  .chain((size) => fc.constantFrom('x', 'é', '😀', '\u0000').map((unit) => unit.repeat(size)));

/** Strings people and attackers type: any code points, lone surrogates, controls, markup, injections. */
export const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom(
    '',
    ' ',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u0000\u001b[2J',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    ['$', '{jndi:ldap://x}'].join(''), // log4shell's lookup
    '../../../../etc/passwd',
    '{{constructor.constructor("return process")()}}',
    '/schedule every 1 minute x',
    '/unschedule ../../x',
    'null',
    'NaN',
  ),
);

/** Objects whose keys include the polluting ones, at any depth. */
export const pollutingObject = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    tie('object'),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
  object: fc.dictionary(
    fc.oneof(fc.constantFrom(...POLLUTING_KEYS), fc.string({ maxLength: 12 })),
    tie('value'),
    {
      maxKeys: 6,
    },
  ),
})).object;

/** A JSON text of any shape, as the JSON a request would carry (keys like `__proto__` kept verbatim). */
export const jsonText = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  pollutingObject.map((value) => JSON.stringify(value)),
  fc.constantFrom(
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"update_id":1,"__proto__":{"message":{"text":"hi"}}}',
    '{"type":1,"__proto__":{"type":2}}',
  ),
);

/** Any request body: JSON of any shape, deep, huge, not JSON at all, or empty. */
export const hostileBody = fc.oneof(
  { weight: 4, arbitrary: jsonText },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: hugeText },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constant('') },
);

/** Content types, right and wrong; non-text ones make the local HTTP API base64-encode the body, like AWS. */
export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'image/png',
  '',
);

/** True when nothing above added a key to Object.prototype. */
export function prototypeIsClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.polluted === undefined && Object.keys(Object.prototype).length === 0;
}
