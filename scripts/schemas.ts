/** `npm run schemas`: writes schemas/<detail-type>.json from the event catalog (lambda/core/catalog.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DETAIL_TYPES, detailJsonSchema, schemaName } from '../lambda/core/catalog';

const dir = join(__dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
for (const t of CATALOG_DETAIL_TYPES)
  writeFileSync(join(dir, `${schemaName(t)}.json`), `${JSON.stringify(detailJsonSchema(t), null, 2)}\n`);
console.log(`wrote ${CATALOG_DETAIL_TYPES.length} schemas to schemas/`);
