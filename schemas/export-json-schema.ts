/**
 * Writes one JSON Schema file per bus event and web-socket frame to `schemas/json/`, for people who
 * consume the bus from other languages. Run with `npm run schemas:export`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EventCatalog } from './events.ts';
import { ClientFrameSchema, ServerFrameSchema } from './web-socket.ts';

/** Every exported schema, keyed by the file name it is written to. */
export function jsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [detailType, schema] of Object.entries(EventCatalog)) {
    out[detailType] = { title: detailType, ...z.toJSONSchema(schema, { io: 'input' }) };
  }
  out['web-socket.client-frame'] = z.toJSONSchema(ClientFrameSchema, { io: 'input' });
  out['web-socket.server-frame'] = z.toJSONSchema(ServerFrameSchema, { io: 'input' });
  return out;
}

if (import.meta.main) {
  const dir = join(import.meta.dirname, 'json');
  await mkdir(dir, { recursive: true });
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    await writeFile(join(dir, `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
  }
  console.log(`wrote ${Object.keys(jsonSchemas()).length} schemas to ${dir}`);
}
