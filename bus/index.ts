// Publishing events: used by every producer and by the agent.

export type { FailedEntry } from './errors.ts';
export { InvalidEventError, PublishError, toError } from './errors.ts';
export type {
  DeadLetter,
  LocalBusOptions,
  PutEventsEntry,
  PutEventsResultEntry,
  TargetHandler,
} from './local-bus.ts';
// Local mode: the in-process bus and its matcher.
export { LocalBus } from './local-bus.ts';
export type { EventPattern } from './pattern-matcher.ts';
export { InvalidPatternError, matchesPattern, validatePattern } from './pattern-matcher.ts';
export type { Publisher, PublisherOptions } from './publish.ts';
export {
  batchEntries,
  createPublisher,
  entrySize,
  MAX_BYTES_PER_CALL,
  MAX_ENTRIES_PER_CALL,
} from './publish.ts';
export type { DeliveryPolicy, Route, TargetDefinition, TargetId } from './routing-table.ts';
// The routing table: read by the CDK stack and by the local bus.
export { ROUTES, TARGETS } from './routing-table.ts';
