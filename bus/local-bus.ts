import { randomUUID } from 'node:crypto';
import type { BusEnvelope, DetailType } from '../schemas/index.ts';
import { toError } from './errors.ts';
import { matchesPattern, validatePattern } from './pattern-matcher.ts';
import { ROUTES, type Route, TARGETS, type TargetDefinition, type TargetId } from './routing-table.ts';

/** A function that handles one delivered event, as a Lambda target would. Throwing asks for a retry. */
export type TargetHandler = (envelope: BusEnvelope) => Promise<unknown>;

/** One entry of a PutEvents request, in the SDK's field names. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: Date | string;
  Resources?: string[];
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

export interface DeadLetter {
  route: string;
  envelope: BusEnvelope;
  error: Error;
  attempts: number;
}

export interface LocalBusOptions {
  /** Handlers by target id. A route whose target has no handler is skipped, with a warning. */
  targets: Partial<Record<TargetId, TargetHandler>>;
  /** @default ROUTES, the same table the CDK stack deploys */
  routes?: readonly Route[];
  /** Retry settings per target. @default TARGETS */
  targetDefinitions?: Readonly<Record<TargetId, TargetDefinition>>;
  /** Delay before retry `attempt` (1-based). @default 100 ms doubling: AWS waits longer; tests want speed */
  retryDelayMs?: (attempt: number) => number;
  /** @default console */
  logger?: Pick<Console, 'warn' | 'error'>;
}

/**
 * The in-process stand-in for an EventBridge bus and its rules: `putEvents` accepts the same entries as
 * PutEvents, matches each event against the routing table with EventBridge pattern semantics, and
 * delivers it asynchronously to every matching target, retrying a throwing handler per its target's policy and
 * keeping what exhausts its retries as a dead letter.
 */
export class LocalBus {
  readonly deadLetters: DeadLetter[] = [];
  private readonly routes: readonly Route[];
  private readonly targetDefinitions: Readonly<Record<TargetId, TargetDefinition>>;
  private readonly targets: Partial<Record<TargetId, TargetHandler>>;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly logger: Pick<Console, 'warn' | 'error'>;
  private readonly inFlight = new Set<Promise<void>>();
  private failuresToInject = 0;
  private closed = false;

  constructor(options: LocalBusOptions) {
    this.routes = options.routes ?? ROUTES;
    this.targetDefinitions = options.targetDefinitions ?? TARGETS;
    // A bad pattern fails here, at start-up, as `cdk deploy` would fail on AWS.
    for (const route of this.routes) validatePattern(route.pattern);
    this.targets = options.targets;
    this.retryDelayMs = options.retryDelayMs ?? ((attempt) => 100 * 2 ** (attempt - 1));
    this.logger = options.logger ?? console;
  }

  /** Accepts entries like PutEvents: returns one result per entry, in order, with an error code or an id. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResultEntry[] {
    return entries.map((entry) => {
      if (this.closed)
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'The local bus is shutting down' };
      if (this.failuresToInject > 0) {
        this.failuresToInject--;
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'Injected failure (local bus test hook)' };
      }
      if (!entry.Source || !entry.DetailType || !entry.Detail) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object' };
      }
      const envelope: BusEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as DetailType,
        source: entry.Source,
        account: '000000000000',
        // EventBridge stamps whole seconds.
        time: new Date(entry.Time ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: 'local',
        resources: entry.Resources ?? [],
        detail: detail as BusEnvelope['detail'],
      };
      this.dispatch(envelope);
      return { EventId: envelope.id };
    });
  }

  /** Test hook: the next `count` entries are rejected the way EventBridge rejects entries under load. */
  injectFailures(count: number): void {
    this.failuresToInject = count;
  }

  /** Resolves when every delivery started so far (retries included) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops accepting deliveries and waits for those in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private dispatch(envelope: BusEnvelope): void {
    for (const route of this.routes) {
      if (!matchesPattern(route.pattern, envelope)) continue;
      const handler = this.targets[route.target];
      if (!handler) {
        this.logger.warn(`[local-bus] route ${route.name} matched but target ${route.target} is not running`);
        continue;
      }
      const delivery = this.deliver(route, handler, envelope).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async deliver(route: Route, handler: TargetHandler, envelope: BusEnvelope): Promise<void> {
    const firstAttemptAt = Date.now();
    // A handler that throws is retried like Lambda retries an asynchronous invocation.
    const { retryAttempts, maxEventAgeSeconds } = this.targetDefinitions[route.target];
    const maxAttempts = 1 + retryAttempts;
    for (let attempt = 1; ; attempt++) {
      // Like EventBridge's asynchronous Lambda invoke: the caller of PutEvents never waits for us.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        await handler(envelope);
        return;
      } catch (thrown) {
        const error = toError(thrown);
        const tooOld = Date.now() - firstAttemptAt > maxEventAgeSeconds * 1000;
        if (attempt >= maxAttempts || tooOld || this.closed) {
          this.deadLetters.push({ route: route.name, envelope, error, attempts: attempt });
          this.logger.error(
            `[local-bus] ${envelope['detail-type']} ${envelope.id} to ${route.target} dead-lettered after ${attempt} attempts: ${error.message}`,
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs(attempt)));
      }
    }
  }
}
