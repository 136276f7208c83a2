import { describe, expect, it } from 'vitest';
import {
  type EventPattern,
  InvalidPatternError,
  matchesPattern,
  validatePattern,
} from './pattern-matcher.ts';

/** Every pattern used for matching must also pass validation, as the local bus validates routes first. */
function matches(pattern: EventPattern, event: unknown): boolean {
  validatePattern(pattern);
  return matchesPattern(pattern, event);
}

/** The problem message, or a failure if the pattern is accepted. */
function rejection(pattern: unknown): string {
  try {
    validatePattern(pattern);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPatternError);
    return (error as InvalidPatternError).message;
  }
  throw new Error(`pattern was accepted: ${JSON.stringify(pattern)}`);
}

// The EC2 event from the guide's "Event patterns" page.
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

// The event from event-ruler's README, which the guide's content-filtering examples are written against.
const rulerEvent = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...rulerEvent, detail });

describe('event patterns (guide: "Event patterns" and "Event pattern syntax")', () => {
  it('EC2 instance-termination: source, detail-type and detail.state must all match', () => {
    const pattern: EventPattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches(pattern, { ...ec2Event, detail: { state: 'running' } })).toBe(false);
    expect(matches(pattern, { ...ec2Event, source: 'aws.fargate' })).toBe(false);
  });

  it('multiple values: source is aws.ec2 or aws.fargate', () => {
    const pattern: EventPattern = { source: ['aws.ec2', 'aws.fargate'] };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches(pattern, { ...ec2Event, source: 'aws.fargate' })).toBe(true);
    expect(matches(pattern, { ...ec2Event, source: 'aws.s3' })).toBe(false);
  });

  it('fields not named in the pattern are ignored', () => {
    expect(matches({ detail: { state: ['terminated'] } }, ec2Event)).toBe(true);
  });

  it('every field named in the pattern must be present, at the same nesting', () => {
    expect(matches({ detail: { 'instance-type': ['t2.micro'] } }, ec2Event)).toBe(false);
    expect(matches({ state: ['terminated'] }, ec2Event)).toBe(false);
  });

  it('matching is exact and case-sensitive', () => {
    expect(matches({ detail: { state: ['Terminated'] } }, ec2Event)).toBe(false);
    expect(matches({ source: ['aws.ec'] }, ec2Event)).toBe(false);
  });

  it('detail-type and source are matched like any other field', () => {
    expect(matches({ 'detail-type': [{ prefix: 'EC2 Instance' }] }, ec2Event)).toBe(true);
    expect(matches({ source: [{ 'anything-but': 'aws.ec2' }] }, ec2Event)).toBe(false);
  });
});

describe('comparison operators table (guide: "Comparison operators")', () => {
  it('And: Location is "New York" and Day is "Monday"', () => {
    const pattern: EventPattern = { Location: ['New York'], Day: ['Monday'] };
    expect(matches(pattern, { Location: 'New York', Day: 'Monday' })).toBe(true);
    expect(matches(pattern, { Location: 'New York', Day: 'Tuesday' })).toBe(false);
  });

  it('Empty: LastName is empty', () => {
    const pattern: EventPattern = { LastName: [''] };
    expect(matches(pattern, { LastName: '' })).toBe(true);
    expect(matches(pattern, { LastName: 'Doe' })).toBe(false);
    expect(matches(pattern, {})).toBe(false);
  });

  it('Equals: Name is "Alice"', () => {
    expect(matches({ Name: ['Alice'] }, { Name: 'Alice' })).toBe(true);
    expect(matches({ Name: ['Alice'] }, { Name: 'alice' })).toBe(false);
  });

  it('Equals (ignore case): Name is "alice" in any casing', () => {
    const pattern: EventPattern = { Name: [{ 'equals-ignore-case': 'alice' }] };
    expect(matches(pattern, { Name: 'ALICE' })).toBe(true);
    expect(matches(pattern, { Name: 'Alicia' })).toBe(false);
  });

  it('Exists: ProductName exists', () => {
    const pattern: EventPattern = { ProductName: [{ exists: true }] };
    expect(matches(pattern, { ProductName: 'Widget' })).toBe(true);
    expect(matches(pattern, { Price: 1 })).toBe(false);
  });

  it('Does not exist: ProductName does not exist', () => {
    const pattern: EventPattern = { ProductName: [{ exists: false }] };
    expect(matches(pattern, { Price: 1 })).toBe(true);
    expect(matches(pattern, { ProductName: 'Widget' })).toBe(false);
  });

  it('Not: Weather is anything but "Raining"', () => {
    const pattern: EventPattern = { Weather: [{ 'anything-but': ['Raining'] }] };
    expect(matches(pattern, { Weather: 'Sunny' })).toBe(true);
    expect(matches(pattern, { Weather: 'Raining' })).toBe(false);
  });

  it('Null: UserID is null', () => {
    const pattern: EventPattern = { UserID: [null] };
    expect(matches(pattern, { UserID: null })).toBe(true);
    expect(matches(pattern, { UserID: 'u-1' })).toBe(false);
  });

  it('Numeric (equals): Price is 100', () => {
    const pattern: EventPattern = { Price: [{ numeric: ['=', 100] }] };
    expect(matches(pattern, { Price: 100 })).toBe(true);
    expect(matches(pattern, { Price: 101 })).toBe(false);
  });

  it('Numeric (range): Price is more than 10 and at most 20', () => {
    const pattern: EventPattern = { Price: [{ numeric: ['>', 10, '<=', 20] }] };
    expect(matches(pattern, { Price: 20 })).toBe(true);
    expect(matches(pattern, { Price: 10 })).toBe(false);
    expect(matches(pattern, { Price: 20.5 })).toBe(false);
  });

  it('Or: PaymentType is "Credit" or "Debit"', () => {
    const pattern: EventPattern = { PaymentType: ['Credit', 'Debit'] };
    expect(matches(pattern, { PaymentType: 'Debit' })).toBe(true);
    expect(matches(pattern, { PaymentType: 'Cash' })).toBe(false);
  });

  it('Or (multiple fields): Location is "New York", or Day is "Monday"', () => {
    const pattern: EventPattern = { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] };
    expect(matches(pattern, { Location: 'Paris', Day: 'Monday' })).toBe(true);
    expect(matches(pattern, { Location: 'New York', Day: 'Friday' })).toBe(true);
    expect(matches(pattern, { Location: 'Paris', Day: 'Friday' })).toBe(false);
  });

  it('Wildcard: any file with a .png extension in the folder "dir"', () => {
    const pattern: EventPattern = { FileName: [{ wildcard: 'dir/*.png' }] };
    expect(matches(pattern, { FileName: 'dir/cat.png' })).toBe(true);
    expect(matches(pattern, { FileName: 'dir/cat.jpg' })).toBe(false);
    expect(matches(pattern, { FileName: 'other/cat.png' })).toBe(false);
  });
});

describe('prefix and suffix (guide: "Content filtering")', () => {
  it('prefix: time starting with "2017-10-02"', () => {
    const pattern: EventPattern = { time: [{ prefix: '2017-10-02' }] };
    expect(matches(pattern, { time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(matches(pattern, { time: '2017-10-03T18:43:48Z' })).toBe(false);
  });

  it('prefix: matches the "ca-" region prefix', () => {
    const pattern: EventPattern = { region: [{ prefix: 'ca-' }] };
    expect(matches(pattern, { region: 'ca-central-1' })).toBe(true);
    expect(matches(pattern, { region: 'us-east-1' })).toBe(false);
  });

  it('prefix ignoring case: service starts with "EventB" in any casing', () => {
    const pattern: EventPattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    expect(matches(pattern, { detail: { service: 'EventBridge' } })).toBe(true);
    expect(matches(pattern, { detail: { service: 'EVENTBRIDGE' } })).toBe(true);
    expect(matches(pattern, { detail: { service: 'eventbus' } })).toBe(true);
    expect(matches(pattern, { detail: { service: 'SQS' } })).toBe(false);
  });

  it('suffix: FileName ending in ".png"', () => {
    const pattern: EventPattern = { FileName: [{ suffix: '.png' }] };
    expect(matches(pattern, { FileName: 'image.png' })).toBe(true);
    expect(matches(pattern, { FileName: 'image.PNG' })).toBe(false);
  });

  it('suffix ignoring case: FileName ending in ".png" or ".PNG"', () => {
    const pattern: EventPattern = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
    expect(matches(pattern, { detail: { FileName: 'image.PNG' } })).toBe(true);
    expect(matches(pattern, { detail: { FileName: 'image.Png' } })).toBe(true);
    expect(matches(pattern, { detail: { FileName: 'image.gif' } })).toBe(false);
  });

  it('prefix and suffix only apply to strings', () => {
    expect(matches({ n: [{ prefix: '12' }] }, { n: 123 })).toBe(false);
    expect(matches({ n: [{ suffix: '23' }] }, { n: 123 })).toBe(false);
    expect(matches({ b: [{ prefix: 't' }] }, { b: true })).toBe(false);
  });
});

describe('anything-but (guide: "Anything-but matching")', () => {
  it('anything-but a string: state is not "initializing"', () => {
    const pattern: EventPattern = { detail: { state: [{ 'anything-but': 'initializing' }] } };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ state: 'initializing' }))).toBe(false);
  });

  it('anything-but a number: x-limit is not 123', () => {
    const pattern: EventPattern = { detail: { 'x-limit': [{ 'anything-but': 123 }] } };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ 'x-limit': 123 }))).toBe(false);
    expect(matches(pattern, withDetail({ 'x-limit': 123.0 }))).toBe(false);
  });

  it('anything-but a list of strings: state is neither "stopped" nor "overloaded"', () => {
    const pattern: EventPattern = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ state: 'stopped' }))).toBe(false);
    expect(matches(pattern, withDetail({ state: 'overloaded' }))).toBe(false);
  });

  it('anything-but a list of numbers: x-limit is not 100, 200 or 300', () => {
    const pattern: EventPattern = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ 'x-limit': 200 }))).toBe(false);
  });

  it('anything-but prefix: state does not start with "init"', () => {
    const pattern: EventPattern = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ state: 'initializing' }))).toBe(false);
  });

  it('anything-but prefix: Region is not in the US', () => {
    const pattern: EventPattern = { Region: [{ 'anything-but': { prefix: 'us-' } }] };
    expect(matches(pattern, { Region: 'eu-west-1' })).toBe(true);
    expect(matches(pattern, { Region: 'us-east-1' })).toBe(false);
  });

  it('anything-but suffix: FileName does not end with ".txt"', () => {
    const pattern: EventPattern = { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } };
    expect(matches(pattern, { detail: { FileName: 'notes.md' } })).toBe(true);
    expect(matches(pattern, { detail: { FileName: 'notes.txt' } })).toBe(false);
  });

  it('anything-but ignoring case: state is not "initializing" in any casing', () => {
    const pattern: EventPattern = {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ state: 'INITIALIZING' }))).toBe(false);
  });

  it('anything-but ignoring case, list: state is not "initializing" or "stopped" in any casing', () => {
    const pattern: EventPattern = {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ state: 'Stopped' }))).toBe(false);
  });

  it('anything-but wildcard: FilePath does not contain "/lib/"', () => {
    const pattern: EventPattern = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matches(pattern, { detail: { FilePath: '/usr/bin/tool' } })).toBe(true);
    expect(matches(pattern, { detail: { FilePath: '/usr/lib/tool' } })).toBe(false);
  });

  it('anything-but wildcard, list: FilePath contains neither "/lib/" nor "/bin/"', () => {
    const pattern: EventPattern = {
      detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    };
    expect(matches(pattern, { detail: { FilePath: '/usr/share/tool' } })).toBe(true);
    expect(matches(pattern, { detail: { FilePath: '/usr/bin/tool' } })).toBe(false);
  });

  it('anything-but on a missing field does not match', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({}))).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'x' } }] } }, {})).toBe(false);
  });

  it('anything-but on an event array matches when some element is not excluded', () => {
    const pattern: EventPattern = { tags: [{ 'anything-but': ['blocked', 'spam'] }] };
    expect(matches(pattern, { tags: ['blocked', 'ok'] })).toBe(true);
    expect(matches(pattern, { tags: ['blocked'] })).toBe(false);
    expect(matches(pattern, { tags: ['blocked', 'spam'] })).toBe(false);
    expect(matches(pattern, { tags: [] })).toBe(false);
  });

  it('anything-but a string lets values of other types through', () => {
    const pattern: EventPattern = { v: [{ 'anything-but': '5' }] };
    expect(matches(pattern, { v: 5 })).toBe(true);
    expect(matches(pattern, { v: null })).toBe(true);
    expect(matches(pattern, { v: '5' })).toBe(false);
    expect(matches({ v: [{ 'anything-but': { prefix: 'a' } }] }, { v: 1 })).toBe(true);
  });
});

describe('numeric (guide: "Numeric matching")', () => {
  const pattern: EventPattern = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };

  it('c-count in (0, 5], d-count below 10 and x-limit equal to 3.018e2, all at once', () => {
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, withDetail({ ...rulerEvent.detail, 'c-count': 0 }))).toBe(false);
    expect(matches(pattern, withDetail({ ...rulerEvent.detail, 'd-count': 10 }))).toBe(false);
    expect(matches(pattern, withDetail({ ...rulerEvent.detail, 'x-limit': 301.9 }))).toBe(false);
  });

  it('each operator on its own: =, <, <=, >, >=', () => {
    const at = (operator: string, value: number) =>
      matches({ n: [{ numeric: [operator, 5] }] }, { n: value });
    expect([at('=', 5), at('=', 5.000001)]).toEqual([true, false]);
    expect([at('<', 4.9), at('<', 5)]).toEqual([true, false]);
    expect([at('<=', 5), at('<=', 5.1)]).toEqual([true, false]);
    expect([at('>', 5.1), at('>', 5)]).toEqual([true, false]);
    expect([at('>=', 5), at('>=', 4.9)]).toEqual([true, false]);
  });

  it('closed and open range ends: [">=", 1, "<", 2]', () => {
    const pattern: EventPattern = { n: [{ numeric: ['>=', 1, '<', 2] }] };
    expect(matches(pattern, { n: 1 })).toBe(true);
    expect(matches(pattern, { n: 1.999999 })).toBe(true);
    expect(matches(pattern, { n: 2 })).toBe(false);
  });

  it('negative and scientific-notation numbers compare by value', () => {
    expect(matches({ n: [{ numeric: ['<', 0] }] }, { n: -1e-3 })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', -5e9, '<', 5e9] }] }, { n: 4.99e9 })).toBe(true);
  });

  it('numeric only matches JSON numbers, never strings', () => {
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: '5' })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: true })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, {})).toBe(false);
  });

  it('numeric ignores event numbers beyond the documented -5e9..5e9 range', () => {
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: 5e9 })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: 6e9 })).toBe(false);
  });

  it('numeric on an event array matches when any element is in range', () => {
    expect(matches({ n: [{ numeric: ['>', 10] }] }, { n: [1, 2, 11] })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 10] }] }, { n: [1, 2, 3] })).toBe(false);
  });
});

describe('IP addresses (guide: "IP address matching")', () => {
  it('IPv4: sourceIPAddress in 10.0.0.0/24', () => {
    const pattern: EventPattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.0.0' } })).toBe(true);
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.1.1' } })).toBe(false);
  });

  it('IPv4: the README example source-ip in 10.0.0.0/8', () => {
    expect(matches({ detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, rulerEvent)).toBe(true);
    expect(matches({ detail: { 'source-ip': [{ cidr: '11.0.0.0/8' }] } }, rulerEvent)).toBe(false);
  });

  it('IPv6: sourceIPAddress in 2001:db8::/64, in any spelling of the address', () => {
    const pattern: EventPattern = { ip: [{ cidr: '2001:db8::/64' }] };
    expect(matches(pattern, { ip: '2001:db8::1' })).toBe(true);
    expect(matches(pattern, { ip: '2001:0DB8:0000:0000:ffff:ffff:ffff:ffff' })).toBe(true);
    expect(matches(pattern, { ip: '2001:db8:0:1::1' })).toBe(false);
  });

  it('cidr never matches non-addresses or the other IP version', () => {
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '::1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: 'localhost' })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '256.1.1.1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: 167772161 })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '1.2.3.4' })).toBe(true);
  });
});

describe('exists (guide: "Exists matching")', () => {
  it('exists true: detail.state is present', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ exists: true }] } }, ec2Event)).toBe(false);
  });

  it('exists false: matches an event without detail.c-count', () => {
    const pattern: EventPattern = { detail: { 'c-count': [{ exists: false }] } };
    expect(matches(pattern, { detail: { state: ['initializing', 'running'] } })).toBe(true);
    expect(matches(pattern, rulerEvent)).toBe(false);
  });

  it('exists false: also matches when c-count is not a leaf node', () => {
    const pattern: EventPattern = { detail: { 'c-count': [{ exists: false }] } };
    expect(matches(pattern, { detail: { state: 'running', 'c-count': { c1: 100 } } })).toBe(true);
    expect(
      matches({ detail: { 'c-count': [{ exists: true }] } }, { detail: { 'c-count': { c1: 100 } } }),
    ).toBe(false);
  });

  it('exists false matches when a parent object is missing or not an object', () => {
    const pattern: EventPattern = { detail: { 'c-count': [{ exists: false }] } };
    expect(matches(pattern, { source: 'x' })).toBe(true);
    expect(matches(pattern, { detail: 'a string' })).toBe(true);
  });

  it('exists counts null and "" as present, and an empty array as absent', () => {
    expect(matches({ a: [{ exists: true }] }, { a: null })).toBe(true);
    expect(matches({ a: [{ exists: true }] }, { a: '' })).toBe(true);
    expect(matches({ a: [{ exists: false }] }, { a: null })).toBe(false);
    expect(matches({ a: [{ exists: true }] }, { a: [] })).toBe(false);
    expect(matches({ a: [{ exists: false }] }, { a: [] })).toBe(true);
  });

  it('exists can be combined with values: "x" or absent', () => {
    const pattern: EventPattern = { a: ['x', { exists: false }] };
    expect(matches(pattern, { a: 'x' })).toBe(true);
    expect(matches(pattern, {})).toBe(true);
    expect(matches(pattern, { a: 'y' })).toBe(false);
  });
});

describe('equals-ignore-case (guide: "Equals-ignore-case matching")', () => {
  it('detail-type equals "ec2 instance state-change notification" in any casing', () => {
    const pattern: EventPattern = {
      'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }],
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches(pattern, { ...ec2Event, 'detail-type': 'EC2 Spot Instance Interruption Warning' })).toBe(
      false,
    );
  });

  it('equals-ignore-case is a whole-value match on strings only', () => {
    expect(matches({ a: [{ 'equals-ignore-case': 'abc' }] }, { a: 'ABCD' })).toBe(false);
    expect(matches({ a: [{ 'equals-ignore-case': 'true' }] }, { a: true })).toBe(false);
  });
});

describe('wildcard (guide: "Wildcard matching")', () => {
  it('EventBusArn in any account: arn:aws:events:us-east-1:*:event-bus/*', () => {
    const pattern: EventPattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    expect(
      matches(pattern, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' }),
    ).toBe(true);
    expect(
      matches(pattern, { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/myEventBus' }),
    ).toBe(false);
  });

  it('a lone * matches any string, including the empty one, but not other types', () => {
    expect(matches({ a: [{ wildcard: '*' }] }, { a: '' })).toBe(true);
    expect(matches({ a: [{ wildcard: '*' }] }, { a: 'anything' })).toBe(true);
    expect(matches({ a: [{ wildcard: '*' }] }, { a: 12 })).toBe(false);
    expect(matches({ a: [{ wildcard: '*' }] }, {})).toBe(false);
  });

  it('without * a wildcard is an exact match; * may match an empty run', () => {
    expect(matches({ a: [{ wildcard: 'abc' }] }, { a: 'abc' })).toBe(true);
    expect(matches({ a: [{ wildcard: 'abc' }] }, { a: 'abcd' })).toBe(false);
    expect(matches({ a: [{ wildcard: 'a*b*c' }] }, { a: 'abc' })).toBe(true);
    expect(matches({ a: [{ wildcard: 'a*b*c' }] }, { a: 'axxbyyc' })).toBe(true);
    expect(matches({ a: [{ wildcard: 'a*b*c' }] }, { a: 'acb' })).toBe(false);
  });

  it('overlapping prefix and suffix do not double count characters', () => {
    expect(matches({ a: [{ wildcard: 'ab*ba' }] }, { a: 'aba' })).toBe(false);
    expect(matches({ a: [{ wildcard: 'ab*ba' }] }, { a: 'abba' })).toBe(true);
  });

  it('escaped \\* is a literal star and \\\\ a literal backslash', () => {
    expect(matches({ a: [{ wildcard: 'price\\*' }] }, { a: 'price*' })).toBe(true);
    expect(matches({ a: [{ wildcard: 'price\\*' }] }, { a: 'prices' })).toBe(false);
    expect(matches({ a: [{ wildcard: 'C:\\\\*' }] }, { a: 'C:\\Windows' })).toBe(true);
  });

  it('matches like a reference glob on random inputs', () => {
    // A seeded generator keeps the test deterministic.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = (alphabet: string, length: number) =>
      Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    for (let i = 0; i < 500; i++) {
      const glob = pick('ab*', 1 + random(6)).replace(/\*+/g, '*');
      const value = pick('ab', random(8));
      const reference = new RegExp(`^${glob.replaceAll('*', '.*')}$`).test(value);
      expect(matches({ a: [{ wildcard: glob }] }, { a: value }), `${glob} vs ${value}`).toBe(reference);
    }
  });
});

describe('$or (guide: "Or matching")', () => {
  it('detail: c-count in range, or d-count below 10, or x-limit equal to 3.018e2', () => {
    const pattern: EventPattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matches(pattern, withDetail({ 'c-count': 50, 'd-count': 50, 'x-limit': 301.8 }))).toBe(true);
    expect(matches(pattern, withDetail({ 'c-count': 50, 'd-count': 3 }))).toBe(true);
    expect(matches(pattern, withDetail({ 'c-count': 50, 'd-count': 50, 'x-limit': 1 }))).toBe(false);
  });

  it('source AND (metricName OR namespace)', () => {
    const pattern: EventPattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(matches(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/ES' })).toBe(true);
    expect(matches(pattern, { source: 'aws.ec2', namespace: 'AWS/ES' })).toBe(false);
    expect(matches(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/S3' })).toBe(false);
  });

  it('parallel $or at two levels', () => {
    const pattern: EventPattern = {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    };
    expect(matches(pattern, { namespace: 'AWS/EC2', detail: { source: 'aws.cloudwatch' } })).toBe(true);
    expect(matches(pattern, { namespace: 'AWS/EC2', detail: { source: 'aws.s3' } })).toBe(false);
  });

  it('$or with an AND inside a branch, and a nested $or', () => {
    const pattern: EventPattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    };
    const event = { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 };
    expect(matches(pattern, event)).toBe(true);
    expect(matches(pattern, { ...event, spaceId: 1 })).toBe(false);
    expect(matches(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/EC2', spaceId: 1000 })).toBe(false);
    expect(matches(pattern, { source: 'aws.cloudwatch', scope: 'Service' })).toBe(true);
  });
});

describe('complex example (guide: "Complex example with multiple matching")', () => {
  it('prefix, anything-but, numeric and anything-but list together', () => {
    const pattern: EventPattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    };
    expect(matches(pattern, rulerEvent)).toBe(true);
    expect(matches(pattern, { ...rulerEvent, time: '2017-10-03T00:00:00Z' })).toBe(false);
    expect(matches(pattern, withDetail({ ...rulerEvent.detail, 'x-limit': 300 }))).toBe(false);
  });
});

describe('arrays (guide: "Arrays in event patterns")', () => {
  it('resources: matches when the pattern and event arrays intersect', () => {
    const pattern: EventPattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(matches(pattern, event)).toBe(true);
    expect(matches(pattern, { resources: ['arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f'] })).toBe(
      false,
    );
  });

  it('objects in arrays: employees.firstName is "Anna"', () => {
    const event = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    };
    expect(matches({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(matches({ employees: { firstName: ['Mary'] } }, event)).toBe(false);
  });

  it('objects in arrays: fields must match within one element (Anna Jones does not match)', () => {
    const event = {
      employees: [
        [
          { firstName: 'John', lastName: 'Doe' },
          { firstName: 'Anna', lastName: 'Smith' },
        ],
        [{ firstName: 'Peter', lastName: 'Jones' }],
      ],
    };
    expect(matches({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event)).toBe(true);
    expect(matches({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
  });

  it('nested arrays of leaves are flattened', () => {
    expect(matches({ a: ['x'] }, { a: [['y'], ['z', ['x']]] })).toBe(true);
    expect(matches({ a: [{ prefix: 'q' }] }, { a: [['y'], ['z', ['x']]] })).toBe(false);
  });

  it('an array of objects is not a leaf value', () => {
    expect(matches({ a: ['x'] }, { a: [{ b: 'x' }] })).toBe(false);
  });
});

describe('null and empty strings (guide: "Matching null values and empty strings")', () => {
  const event = {
    version: '0',
    id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
    'detail-type': 'EC2 Instance Launch Successful',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: '2015-11-11T21:31:47Z',
    region: 'us-east-1',
    resources: [],
    detail: { eventVersion: '', responseElements: null },
  };

  it('eventVersion is the empty string', () => {
    expect(matches({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matches({ detail: { eventVersion: [''] } }, { ...event, detail: { eventVersion: '1.0' } })).toBe(
      false,
    );
  });

  it('responseElements is null', () => {
    expect(matches({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(
      matches({ detail: { responseElements: [null] } }, { ...event, detail: { responseElements: {} } }),
    ).toBe(false);
  });

  it('null and the empty string are not interchangeable', () => {
    expect(matches({ detail: { responseElements: [''] } }, event)).toBe(false);
    expect(matches({ detail: { eventVersion: [null] } }, event)).toBe(false);
  });

  it('null does not match a missing field', () => {
    expect(matches({ detail: { missing: [null] } }, event)).toBe(false);
    expect(matches({ detail: { missing: [''] } }, event)).toBe(false);
  });

  it('an empty event array has no values to match', () => {
    expect(matches({ resources: [null] }, event)).toBe(false);
    expect(matches({ resources: [''] }, event)).toBe(false);
  });
});

describe('values and types', () => {
  it('numbers match by value: 300 matches 300.0 and 3e2', () => {
    expect(matches({ n: [300] }, JSON.parse('{"n": 300.0}'))).toBe(true);
    expect(matches({ n: [300] }, JSON.parse('{"n": 3e2}'))).toBe(true);
    expect(matches({ n: [3.0e2] }, { n: 300 })).toBe(true);
    expect(matches({ n: [300] }, { n: 300.5 })).toBe(false);
  });

  it('numbers and strings are different values', () => {
    expect(matches({ n: [5] }, { n: '5' })).toBe(false);
    expect(matches({ n: ['5'] }, { n: 5 })).toBe(false);
  });

  it('booleans match booleans, not their spelling', () => {
    expect(matches({ b: [true] }, { b: true })).toBe(true);
    expect(matches({ b: [true] }, { b: false })).toBe(false);
    expect(matches({ b: [true] }, { b: 'true' })).toBe(false);
    expect(matches({ b: ['false'] }, { b: false })).toBe(false);
  });

  it('a list may mix values and filters: any one matching is enough', () => {
    const pattern: EventPattern = { a: ['exact', { prefix: 'pre-' }, { numeric: ['>', 10] }] };
    expect(matches(pattern, { a: 'exact' })).toBe(true);
    expect(matches(pattern, { a: 'pre-x' })).toBe(true);
    expect(matches(pattern, { a: 11 })).toBe(true);
    expect(matches(pattern, { a: 'other' })).toBe(false);
  });

  it('a nested pattern does not match a leaf value in its place', () => {
    expect(matches({ detail: { state: ['x'] } }, { detail: 'x' })).toBe(false);
    expect(matches({ detail: { state: ['x'] } }, { detail: null })).toBe(false);
  });

  it('a leaf list does not match an object in its place', () => {
    expect(matches({ detail: ['x'] }, { detail: { state: 'x' } })).toBe(false);
  });

  it('deeply nested fields', () => {
    const pattern: EventPattern = {
      detail: { replyTo: { channel: ['web'], address: { kind: [{ prefix: 'conn' }] } } },
    };
    expect(
      matches(pattern, { detail: { replyTo: { channel: 'web', address: { kind: 'connection' } } } }),
    ).toBe(true);
    expect(matches(pattern, { detail: { replyTo: { channel: 'web', address: { kind: 'socket' } } } })).toBe(
      false,
    );
  });

  it('field names are own properties only, never prototype members', () => {
    expect(matches({ constructor: [{ exists: false }] }, {})).toBe(true);
    expect(matches({ toString: [{ exists: true }] }, {})).toBe(false);
    expect(matches({ ['__proto__']: [{ exists: true }] }, {})).toBe(false);
  });

  it('a non-object event only satisfies exists: false', () => {
    expect(matches({ a: ['x'] }, null)).toBe(false);
    expect(matches({ a: ['x'] }, 'x')).toBe(false);
    expect(matches({ a: [{ exists: false }] }, undefined)).toBe(true);
  });

  it('the routing-table shape: source list, detail-type list and nested detail', () => {
    const pattern: EventPattern = {
      source: ['openclaw.agent'],
      'detail-type': ['ReplyDelta.v1', 'ReplyCompleted.v1'],
      detail: { replyTo: { channel: ['web'] } },
    };
    const event = {
      source: 'openclaw.agent',
      'detail-type': 'ReplyCompleted.v1',
      detail: { replyTo: { channel: 'web', connectionId: 'abc' } },
    };
    expect(matches(pattern, event)).toBe(true);
    expect(matches(pattern, { ...event, detail: { replyTo: { channel: 'telegram' } } })).toBe(false);
  });
});

describe('validatePattern', () => {
  it('accepts every pattern form from the guide', () => {
    const patterns: unknown[] = [
      { source: ['aws.ec2'], detail: { state: ['terminated', null, '', 5, true] } },
      {
        a: [
          { prefix: 'x' },
          { prefix: { 'equals-ignore-case': 'x' } },
          { suffix: { 'equals-ignore-case': 'x' } },
        ],
      },
      { a: [{ 'anything-but': 1 }, { 'anything-but': ['a'] }, { 'anything-but': { prefix: ['a', 'b'] } }] },
      {
        a: [{ 'anything-but': { wildcard: ['*/lib/*'] } }, { 'anything-but': { 'equals-ignore-case': 'x' } }],
      },
      { a: [{ numeric: ['>=', -5e9, '<=', 5e9] }, { numeric: ['=', 0.000001] }, { cidr: '::/0' }] },
      { a: [{ exists: false }, { wildcard: 'a\\*b\\\\*' }, { 'equals-ignore-case': 'x' }] },
      { $or: [{ a: ['x'] }, { b: { $or: [{ c: ['y'] }, { d: ['z'] }] } }] },
      { prefix: ['a field may be named like an operator outside $or'] },
    ];
    for (const pattern of patterns) expect(() => validatePattern(pattern)).not.toThrow();
  });

  it('InvalidPatternError is an Error with a name, a path and a message naming the place', () => {
    const message = rejection({ detail: { price: 5 } });
    expect(message).toMatch(/detail\.price/);
    try {
      validatePattern({ detail: { price: 5 } });
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      expect((error as InvalidPatternError).name).toBe('InvalidPatternError');
      expect((error as InvalidPatternError).path).toBe('detail.price');
    }
  });

  it('rejects a pattern that is not a JSON object', () => {
    expect(rejection(null)).toMatch(/JSON object/);
    expect(rejection([])).toMatch(/JSON object/);
    expect(rejection('{"source": ["x"]}')).toMatch(/JSON object/);
  });

  it('rejects empty objects, at the root and nested', () => {
    expect(rejection({})).toMatch(/\(root\).*empty objects/);
    expect(rejection({ detail: {} })).toMatch(/detail: empty objects/);
  });

  it('rejects a leaf that is not an array', () => {
    expect(rejection({ source: 'aws.ec2' })).toMatch(/source: must be an object .* or an array/);
    expect(rejection({ detail: { enabled: true } })).toMatch(/detail\.enabled/);
  });

  it('rejects empty arrays, nested arrays and non-JSON values', () => {
    expect(rejection({ source: [] })).toMatch(/source: empty arrays/);
    expect(rejection({ source: [['a']] })).toMatch(/match values must be/);
    expect(rejection({ source: [undefined] })).toMatch(/match values must be/);
    expect(rejection({ n: [Number.NaN] })).toMatch(/not a JSON number/);
  });

  it('rejects unknown operators and filters with several operators', () => {
    expect(rejection({ a: [{ contains: 'x' }] })).toMatch(/unknown operator "contains"/);
    expect(rejection({ a: [{ regex: 'x.*' }] })).toMatch(/unknown operator "regex"/);
    expect(rejection({ a: [{ prefix: 'a', suffix: 'b' }] })).toMatch(/exactly one operator, got 2/);
    expect(rejection({ a: [{}] })).toMatch(/exactly one operator, got 0/);
  });

  it('rejects bad prefix, suffix and equals-ignore-case operands', () => {
    expect(rejection({ a: [{ prefix: 1 }] })).toMatch(/prefix takes a string/);
    expect(rejection({ a: [{ prefix: { 'equals-ignore-case': 1 } }] })).toMatch(
      /equals-ignore-case takes a string/,
    );
    expect(rejection({ a: [{ suffix: { wildcard: 'x' } }] })).toMatch(/suffix takes a string/);
    expect(rejection({ a: [{ 'equals-ignore-case': ['x'] }] })).toMatch(/equals-ignore-case takes a string/);
  });

  it('rejects malformed numeric lists', () => {
    expect(rejection({ detail: { price: [{ numeric: 5 }] } })).toMatch(/detail\.price: numeric takes/);
    expect(rejection({ a: [{ numeric: ['>', 0, '<=', 5, '<', 6] }] })).toMatch(/numeric takes/);
    expect(rejection({ a: [{ numeric: ['!=', 5] }] })).toMatch(/unknown numeric operator "!="/);
    expect(rejection({ a: [{ numeric: ['>', '5'] }] })).toMatch(/numeric > takes a number/);
    expect(rejection({ a: [{ numeric: ['<', 5, '>', 1] }] })).toMatch(/starts with > or >=/);
    expect(rejection({ a: [{ numeric: ['=', 1, '<', 5] }] })).toMatch(/starts with > or >=/);
    expect(rejection({ a: [{ numeric: ['>', 1, '>=', 5] }] })).toMatch(/ends with < or <=/);
    expect(rejection({ a: [{ numeric: ['>', 5, '<', 5] }] })).toMatch(/lower bound must be below/);
  });

  it('rejects numeric operands out of range or too precise', () => {
    expect(rejection({ a: [{ numeric: ['<', 6e9] }] })).toMatch(/outside -5e9\.\.5e9/);
    expect(rejection({ a: [{ numeric: ['=', 0.1234567] }] })).toMatch(/more than 6 decimal places/);
    expect(rejection({ a: [{ numeric: ['>', 1e-7] }] })).toMatch(/more than 6 decimal places/);
  });

  it('rejects malformed anything-but', () => {
    expect(rejection({ a: [{ 'anything-but': ['a', 1] }] })).toMatch(/only strings or only numbers/);
    expect(rejection({ a: [{ 'anything-but': [] }] })).toMatch(/must not be empty/);
    expect(rejection({ a: [{ 'anything-but': null }] })).toMatch(/anything-but takes/);
    expect(rejection({ a: [{ 'anything-but': true }] })).toMatch(/anything-but takes/);
    expect(rejection({ a: [{ 'anything-but': [null] }] })).toMatch(/only strings or only numbers/);
    expect(rejection({ a: [{ 'anything-but': [{ prefix: 'x' }] }] })).toMatch(/only strings or only numbers/);
    expect(rejection({ a: [{ 'anything-but': { numeric: ['>', 1] } }] })).toMatch(/take exactly one of/);
    expect(rejection({ a: [{ 'anything-but': { prefix: '' } }] })).toMatch(/prefix must not be empty/);
    expect(rejection({ a: [{ 'anything-but': { suffix: 1 } }] })).toMatch(
      /takes a string or a non-empty list/,
    );
    expect(rejection({ a: [{ 'anything-but': { wildcard: ['*/lib/*', 'a**b'] } }] })).toMatch(/consecutive/);
    expect(rejection({ a: [{ 'anything-but': 6e9 }] })).toMatch(/outside/);
  });

  it('rejects bad cidr blocks', () => {
    expect(rejection({ ip: [{ cidr: '10.0.0.1' }] })).toMatch(/exactly one "\/"/);
    expect(rejection({ ip: [{ cidr: '10.0.0/24' }] })).toMatch(/not an IPv4 or IPv6 address/);
    expect(rejection({ ip: [{ cidr: '10.0.0.256/24' }] })).toMatch(/not an IPv4 or IPv6 address/);
    expect(rejection({ ip: [{ cidr: '2001:db8:::1/64' }] })).toMatch(/not an IPv4 or IPv6 address/);
    expect(rejection({ ip: [{ cidr: '10.0.0.0/x' }] })).toMatch(/whole number/);
    expect(rejection({ ip: [{ cidr: '10.0.0.0/32' }] })).toMatch(/below 32/);
    expect(rejection({ ip: [{ cidr: '::1/128' }] })).toMatch(/below 128/);
    expect(rejection({ ip: [{ cidr: 10 }] })).toMatch(/cidr takes a string/);
  });

  it('rejects bad wildcards: consecutive stars and stray escapes', () => {
    expect(rejection({ a: [{ wildcard: 'a**b' }] })).toMatch(/consecutive wildcard characters at position 1/);
    expect(rejection({ a: [{ wildcard: 'a\\b' }] })).toMatch(/invalid escape/);
    expect(rejection({ a: [{ wildcard: 'a\\' }] })).toMatch(/invalid escape/);
    expect(rejection({ a: [{ wildcard: 'a\\\\**' }] })).toMatch(/consecutive/);
    expect(rejection({ a: [{ wildcard: 1 }] })).toMatch(/wildcard takes a string/);
    expect(() => validatePattern({ a: [{ wildcard: 'a\\**' }] })).not.toThrow();
  });

  it('rejects exists with a non-boolean', () => {
    expect(rejection({ a: [{ exists: 'true' }] })).toMatch(/exists takes true or false/);
  });

  it('rejects malformed $or', () => {
    expect(rejection({ $or: { a: ['x'] } })).toMatch(/\$or: \$or must be an array of at least 2/);
    expect(rejection({ $or: [{ a: ['x'] }] })).toMatch(/at least 2/);
    expect(rejection({ detail: { $or: [{ a: ['x'] }, 'b'] } })).toMatch(/detail\.\$or: /);
    expect(rejection({ $or: [{ a: ['x'] }, {}] })).toMatch(/\$or\[1\]: empty objects/);
    expect(rejection({ $or: [{ a: ['x'] }, { b: 'y' }] })).toMatch(/\$or\[1\]\.b: must be an object/);
  });

  it('rejects operator names used as field names inside $or', () => {
    expect(rejection({ $or: [{ numeric: [123] }, { prefix: ['abc'] }] })).toMatch(
      /\$or\[0\]\.numeric: .*operator/,
    );
    expect(rejection({ $or: [{ a: ['x'] }, { b: { exists: [true] } }] })).toMatch(/\$or\[1\]\.b\.exists/);
  });
});
