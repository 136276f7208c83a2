import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalBus, PutEventsEntry } from '../../bus/index.ts';

/** PutEvents accepts at most this much per call; a larger request is refused like AWS does. */
const MAX_REQUEST_BYTES = 256 * 1024 + 64 * 1024;

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An EventBridge-compatible HTTP endpoint (AWS JSON 1.1, `AWSEvents.PutEvents`) in front of the local
 * bus, so producers and the agent publish through the real `@aws-sdk/client-eventbridge` in local mode
 * too: the same `publish()` code path, batching and retries included.
 */
export async function startEventBridgeEndpoint(
  bus: LocalBus,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    try {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
        return send(
          400,
          { __type: 'UnknownOperationException', message: `Unsupported operation ${target}` },
          'UnknownOperationException',
        );
      }
      const request = JSON.parse(await readBody(req, MAX_REQUEST_BYTES)) as { Entries?: PutEventsEntry[] };
      const entries = request.Entries ?? [];
      if (entries.length === 0 || entries.length > 10) {
        return send(
          400,
          { __type: 'ValidationException', message: 'Entries must hold 1 to 10 items' },
          'ValidationException',
        );
      }
      const results = bus.putEvents(entries);
      send(200, { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results });
    } catch (error) {
      send(400, { __type: 'ValidationException', message: (error as Error).message }, 'ValidationException');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
