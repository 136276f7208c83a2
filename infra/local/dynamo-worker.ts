// dynalite in a worker thread of its own: the local stack runs every handler on the main thread, and
// DynamoDB's work (request parsing, LevelDB, expression evaluation) is a quarter of a message's CPU, so
// here it runs on the machine's other core instead, as the real DynamoDB runs elsewhere. The parent sends
// `close`; the worker answers `closed` once the server and its database are shut.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (error) => parentPort?.postMessage({ error: error.message }));
server.listen(0, '127.0.0.1', () => {
  parentPort?.postMessage({ port: (server.address() as AddressInfo).port });
});
parentPort?.on('message', (message) => {
  if (message !== 'close') return;
  server.closeAllConnections();
  server.close(() => {
    parentPort?.postMessage('closed');
    parentPort?.close();
  });
});
