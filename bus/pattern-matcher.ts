/**
 * EventBridge event-pattern matching for the local in-process bus.
 *
 * Semantics follow the EventBridge User Guide ("Event patterns", "Content filtering", "Arrays in event
 * patterns", "Matching null values and empty strings"). Where the guide is silent, they follow
 * aws/event-ruler, the open-source matcher behind EventBridge:
 * - Event arrays are flattened; a field matches when any of its leaf values matches. Objects inside arrays
 *   are matched element by element, so two fields never match from different elements of one array.
 * - Only leaves (string, number, boolean, null) are values: a field holding an object or an empty array
 *   counts as missing, for `exists` too.
 * - `anything-but` needs a leaf value that is not excluded: a missing field never matches, and an array
 *   field matches when at least one of its values is not excluded (as the SNS guide spells out).
 *
 * Call `validatePattern` once when a pattern is loaded; `matchesPattern` assumes a valid pattern.
 */

type OneOrMany<T> = T | readonly T[];

export type EqualsIgnoreCase = { readonly 'equals-ignore-case': string };

export type AnythingBut =
  | string
  | number
  | readonly string[]
  | readonly number[]
  | { readonly prefix: OneOrMany<string> }
  | { readonly suffix: OneOrMany<string> }
  | { readonly wildcard: OneOrMany<string> }
  | { readonly 'equals-ignore-case': OneOrMany<string> };

/** A content filter: an object with exactly one operator, inside a field's list of match values. */
export type ContentFilter =
  | { readonly prefix: string | EqualsIgnoreCase }
  | { readonly suffix: string | EqualsIgnoreCase }
  | EqualsIgnoreCase
  | { readonly wildcard: string }
  | { readonly 'anything-but': AnythingBut }
  | { readonly numeric: readonly (string | number)[] }
  | { readonly exists: boolean }
  | { readonly cidr: string };

export type MatchValue = string | number | boolean | null | ContentFilter;

/**
 * An EventBridge event pattern: each field maps to a nested pattern or to a list of match values (any may
 * match); all fields must match. `$or` maps to a list of alternative patterns for the same level.
 */
export type EventPattern = {
  readonly [field: string]: EventPattern | readonly MatchValue[] | readonly EventPattern[];
};

export class InvalidPatternError extends Error {
  /** Where in the pattern the problem is, e.g. `detail.price` or `$or[1].source`. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`Invalid event pattern at ${path}: ${problem}`);
    this.name = 'InvalidPatternError';
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------------
// Matching

type Leaf = string | number | boolean | null;
type JsonObject = Record<string, unknown>;

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchesObject(pattern, event);
}

function matchesObject(pattern: EventPattern, value: unknown): boolean {
  const candidates = objectsIn(value);
  // Nothing to descend into: every field is missing, which only `exists: false` accepts.
  if (candidates.length === 0) return matchesFields(pattern, {});
  return candidates.some((candidate) => matchesFields(pattern, candidate));
}

function matchesFields(pattern: EventPattern, object: JsonObject): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      return (sub as readonly EventPattern[]).some((branch) => matchesFields(branch, object));
    }
    // Own properties only, so a field named `constructor` is not found on Object.prototype.
    const value = Object.hasOwn(object, key) ? object[key] : undefined;
    return isList(sub) ? matchesLeaf(sub as readonly MatchValue[], value) : matchesObject(sub, value);
  });
}

function matchesLeaf(conditions: readonly MatchValue[], value: unknown): boolean {
  const leaves = leavesIn(value);
  const present = leaves.length > 0;
  return conditions.some((condition) => {
    if (isObject(condition) && 'exists' in condition) return condition.exists === present;
    return leaves.some((leaf) => matchesValue(condition, leaf));
  });
}

function matchesValue(condition: MatchValue, leaf: Leaf): boolean {
  if (!isObject(condition)) return condition === leaf;
  const [operator, operand] = onlyEntry(condition);
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof leaf !== 'string') return false;
      if (typeof operand === 'string') return testString(operator, operand, leaf);
      return testString(operator, (operand as EqualsIgnoreCase)['equals-ignore-case'], leaf, true);
    case 'equals-ignore-case':
    case 'wildcard':
      return typeof leaf === 'string' && testString(operator, operand as string, leaf);
    case 'anything-but':
      return !isExcluded(operand as AnythingBut, leaf);
    case 'numeric':
      return inNumericRange(operand as readonly (string | number)[], leaf);
    case 'cidr':
      return inCidr(operand as string, leaf);
    default:
      return false;
  }
}

function testString(operator: string, operand: string, value: string, ignoreCase = false): boolean {
  if (ignoreCase) return testString(operator, operand.toLowerCase(), value.toLowerCase());
  switch (operator) {
    case 'prefix':
      return value.startsWith(operand);
    case 'suffix':
      return value.endsWith(operand);
    case 'equals-ignore-case':
      return value.toLowerCase() === operand.toLowerCase();
    case 'wildcard':
      return matchesWildcard(operand, value);
    default:
      return false;
  }
}

/** Whether `anything-but` rules the leaf out. String operators never rule out a non-string. */
function isExcluded(spec: AnythingBut, leaf: Leaf): boolean {
  if (isObject(spec)) {
    const [operator, operand] = onlyEntry(spec);
    const operands = typeof operand === 'string' ? [operand] : (operand as readonly string[]);
    return typeof leaf === 'string' && operands.some((o) => testString(operator, o, leaf));
  }
  const excluded: readonly Leaf[] = isList(spec) ? spec : [spec];
  return excluded.includes(leaf);
}

// The guide: numeric matching works on JSON numbers between -5.0e9 and +5.0e9 inclusive.
const NUMERIC_LIMIT = 5e9;

const COMPARISONS: Record<string, (value: number, bound: number) => boolean> = {
  '=': (value, bound) => value === bound,
  '<': (value, bound) => value < bound,
  '<=': (value, bound) => value <= bound,
  '>': (value, bound) => value > bound,
  '>=': (value, bound) => value >= bound,
};

function inNumericRange(comparisons: readonly (string | number)[], leaf: Leaf): boolean {
  if (typeof leaf !== 'number' || !Number.isFinite(leaf) || Math.abs(leaf) > NUMERIC_LIMIT) return false;
  for (let i = 0; i < comparisons.length; i += 2) {
    const compare = COMPARISONS[comparisons[i] as string];
    if (!compare?.(leaf, comparisons[i + 1] as number)) return false;
  }
  return true;
}

function inCidr(cidr: string, leaf: Leaf): boolean {
  const range = parseCidr(cidr);
  const ip = typeof leaf === 'string' ? parseIp(leaf) : undefined;
  if (typeof range === 'string' || !ip) return false;
  return ip.bits === range.bits && ip.value >= range.low && ip.value <= range.high;
}

function matchesWildcard(pattern: string, value: string): boolean {
  const parsed = parseWildcard(pattern);
  if ('problem' in parsed) return false;
  const { segments } = parsed;
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  if (segments.length === 1) return value === first;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
    return false;
  }
  // Taking each middle segment at its leftmost place is optimal when `*` is the only wildcard.
  let position = first.length;
  const end = value.length - last.length;
  for (const segment of segments.slice(1, -1)) {
    const at = value.indexOf(segment, position);
    if (at < 0 || at + segment.length > end) return false;
    position = at + segment.length;
  }
  return true;
}

/** The leaf values of a field: arrays are flattened; objects are not leaves. */
function leavesIn(value: unknown): Leaf[] {
  if (Array.isArray(value)) return value.flatMap(leavesIn);
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return [value as Leaf];
  return [];
}

/** The objects a nested pattern applies to: the value itself, or each object in an array. */
function objectsIn(value: unknown): JsonObject[] {
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  return isObject(value) ? [value] : [];
}

// ---------------------------------------------------------------------------------------------------
// Validation

const STRING_OPERATORS = ['prefix', 'suffix', 'wildcard', 'equals-ignore-case'];

/** Names event-ruler reserves for operators; inside `$or` they cannot be field names. */
const RESERVED_NAMES = new Set([
  ...STRING_OPERATORS,
  'exactly',
  'anything-but',
  'exists',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

/** Throws InvalidPatternError, naming the place, for anything EventBridge would reject. */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  if (!isObject(pattern)) fail([], 'an event pattern must be a JSON object');
  validateObject(pattern, [], false);
}

function validateObject(object: JsonObject, path: readonly string[], insideOr: boolean): void {
  const keys = Object.keys(object);
  if (keys.length === 0) fail(path, 'empty objects are not allowed');
  for (const key of keys) {
    const value = object[key];
    if (key === '$or') {
      validateOr(value, path);
      continue;
    }
    const here = [...path, key];
    if (insideOr && RESERVED_NAMES.has(key)) {
      fail(here, `"${key}" is an operator name and cannot be a field name inside $or`);
    }
    if (isList(value)) validateMatchValues(value, here);
    else if (isObject(value)) validateObject(value, here, insideOr);
    else fail(here, 'must be an object (a nested pattern) or an array of match values');
  }
}

function validateOr(branches: unknown, path: readonly string[]): void {
  if (!isList(branches) || branches.length < 2 || !branches.every(isObject)) {
    fail([...path, '$or'], '$or must be an array of at least 2 pattern objects');
  }
  branches.forEach((branch, i) => {
    validateObject(branch as JsonObject, [...path, `$or[${i}]`], true);
  });
}

function validateMatchValues(values: readonly unknown[], path: readonly string[]): void {
  if (values.length === 0) fail(path, 'empty arrays are not allowed');
  for (const value of values) {
    if (isObject(value)) {
      validateFilter(value, path);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
    } else if (value !== null && typeof value !== 'string' && typeof value !== 'boolean') {
      fail(path, 'match values must be strings, numbers, booleans, null or filter objects');
    }
  }
}

function validateFilter(filter: JsonObject, path: readonly string[]): void {
  const operators = Object.keys(filter);
  if (operators.length !== 1) {
    fail(path, `a filter object takes exactly one operator, got ${operators.length}`);
  }
  const [operator, operand] = onlyEntry(filter);
  const problem = filterProblem(operator, operand);
  if (problem) fail(path, problem);
}

function filterProblem(operator: string, operand: unknown): string | undefined {
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand === 'string') return undefined;
      if (isObject(operand) && Object.keys(operand).join() === 'equals-ignore-case') {
        return typeof operand['equals-ignore-case'] === 'string'
          ? undefined
          : `${operator} equals-ignore-case takes a string`;
      }
      return `${operator} takes a string or { "equals-ignore-case": string }`;
    case 'equals-ignore-case':
      return typeof operand === 'string' ? undefined : 'equals-ignore-case takes a string';
    case 'wildcard':
      return typeof operand === 'string' ? wildcardProblem(operand) : 'wildcard takes a string';
    case 'anything-but':
      return anythingButProblem(operand);
    case 'numeric':
      return numericProblem(operand);
    case 'exists':
      return typeof operand === 'boolean' ? undefined : 'exists takes true or false';
    case 'cidr': {
      if (typeof operand !== 'string') return 'cidr takes a string such as "10.0.0.0/24"';
      const range = parseCidr(operand);
      return typeof range === 'string' ? `cidr "${operand}": ${range}` : undefined;
    }
    default:
      return `unknown operator "${operator}"`;
  }
}

function anythingButProblem(spec: unknown): string | undefined {
  if (typeof spec === 'string') return undefined;
  if (typeof spec === 'number') return numberProblem(spec, 'anything-but');
  if (isList(spec)) {
    if (spec.length === 0) return 'anything-but lists must not be empty';
    if (spec.every((value) => typeof value === 'string')) return undefined;
    if (!spec.every((value) => typeof value === 'number')) {
      return 'anything-but lists hold only strings or only numbers (no null, boolean, object or mix)';
    }
    return spec.map((value) => numberProblem(value, 'anything-but')).find(Boolean);
  }
  if (isObject(spec)) {
    const keys = Object.keys(spec);
    const [operator, operand] = onlyEntry(spec);
    if (keys.length !== 1 || !STRING_OPERATORS.includes(operator)) {
      return `anything-but objects take exactly one of ${STRING_OPERATORS.join(', ')}`;
    }
    const operands = typeof operand === 'string' ? [operand] : operand;
    if (!isList(operands) || operands.length === 0 || !operands.every((o) => typeof o === 'string')) {
      return `anything-but ${operator} takes a string or a non-empty list of strings`;
    }
    for (const value of operands) {
      if ((operator === 'prefix' || operator === 'suffix') && value === '') {
        return `anything-but ${operator} must not be empty`;
      }
      if (operator === 'wildcard') {
        const problem = wildcardProblem(value);
        if (problem) return problem;
      }
    }
    return undefined;
  }
  return 'anything-but takes a string, a number, a list of strings or numbers, or a string-operator object';
}

function numericProblem(comparisons: unknown): string | undefined {
  const shape = 'numeric takes ["=", n], [op, n] or [">"|">=", low, "<"|"<=", high]';
  if (!isList(comparisons) || (comparisons.length !== 2 && comparisons.length !== 4)) return shape;
  const [operator, bound, upperOperator, upperBound] = comparisons;
  if (typeof operator !== 'string' || !(operator in COMPARISONS)) {
    return `unknown numeric operator ${JSON.stringify(operator)}`;
  }
  const boundProblem = numberProblem(bound, `numeric ${operator}`);
  if (boundProblem || comparisons.length === 2) return boundProblem;
  if (operator !== '>' && operator !== '>=') return `${shape}; a range starts with > or >=`;
  if (upperOperator !== '<' && upperOperator !== '<=') return `${shape}; a range ends with < or <=`;
  const upperProblem = numberProblem(upperBound, `numeric ${upperOperator}`);
  if (upperProblem) return upperProblem;
  return (bound as number) < (upperBound as number)
    ? undefined
    : 'the lower bound must be below the upper bound';
}

function numberProblem(value: unknown, what: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${what} takes a number`;
  if (Math.abs(value) > NUMERIC_LIMIT) return `${what}: ${value} is outside -5e9..5e9`;
  // event-ruler compares numbers to 6 decimal places and rejects operands with more.
  if (decimalPlaces(value) > 6) return `${what}: ${value} has more than 6 decimal places`;
  return undefined;
}

function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  return Math.max(0, fraction.length - Number(exponent));
}

function wildcardProblem(pattern: string): string | undefined {
  const parsed = parseWildcard(pattern);
  return 'problem' in parsed ? `wildcard "${pattern}": ${parsed.problem}` : undefined;
}

/** Splits a wildcard pattern at its unescaped `*`; `\*` is a literal star and `\\` a literal backslash. */
function parseWildcard(pattern: string): { segments: string[] } | { problem: string } {
  const segments = [''];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') {
      if (pattern[i + 1] === '*') return { problem: `consecutive wildcard characters at position ${i}` };
      segments.push('');
      continue;
    }
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        return { problem: `invalid escape at position ${i}; only \\* and \\\\ are allowed` };
      }
      segments[segments.length - 1] += next;
      i++;
      continue;
    }
    segments[segments.length - 1] += char;
  }
  return { segments };
}

// ---------------------------------------------------------------------------------------------------
// IP addresses

interface IpAddress {
  bits: 32 | 128;
  value: bigint;
}

interface IpRange {
  bits: 32 | 128;
  low: bigint;
  high: bigint;
}

/** Parses a CIDR block, or returns what is wrong with it. */
function parseCidr(cidr: string): IpRange | string {
  const parts = cidr.split('/');
  if (parts.length !== 2) return 'exactly one "/" is required, as in 10.0.0.0/24';
  const [address = '', prefixText = ''] = parts;
  const ip = parseIp(address);
  if (!ip) return `"${address}" is not an IPv4 or IPv6 address`;
  if (!/^\d+$/.test(prefixText)) return 'the prefix length must be a whole number';
  const prefix = Number(prefixText);
  // event-ruler accepts prefix lengths up to 31 (IPv4) and 127 (IPv6), not a full-length /32 or /128.
  if (prefix >= ip.bits) return `the prefix length must be below ${ip.bits}`;
  const hostBits = (1n << BigInt(ip.bits - prefix)) - 1n;
  // As in event-ruler, the range starts at the address as written, not at the masked network address.
  return { bits: ip.bits, low: ip.value, high: ip.value | hostBits };
}

function parseIp(text: string): IpAddress | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((octet) => octet > 255)) return undefined;
    return { bits: 32, value: octets.reduce((sum, octet) => (sum << 8n) | BigInt(octet), 0n) };
  }
  const value = parseIpv6(text);
  return value === undefined ? undefined : { bits: 128, value };
}

/** Hex groups with at most one `::`; like event-ruler, no embedded IPv4 tail and no zone. */
function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-f:]+$/i.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const [head = '', tail = ''] = halves;
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return groups.reduce((sum, group) => (sum << 16n) | BigInt(`0x${group}`), 0n);
}

// ---------------------------------------------------------------------------------------------------
// Helpers

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function onlyEntry(object: object): [string, unknown] {
  return Object.entries(object)[0] ?? ['', undefined];
}

function fail(path: readonly string[], problem: string): never {
  throw new InvalidPatternError(path.length > 0 ? path.join('.') : '(root)', problem);
}
