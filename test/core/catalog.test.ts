/** The event catalog: schemas/ is what the catalog generates (run `npm run schemas` after a change). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertCatalogued,
  CATALOG_DETAIL_TYPES,
  detailJsonSchema,
  schemaName,
} from '../../lambda/core/catalog';

const dir = join(__dirname, '..', '..', 'schemas');

describe('schemas/', () => {
  it.each(CATALOG_DETAIL_TYPES)('%s: the committed schema is current (else run npm run schemas)', (t) => {
    const committed = JSON.parse(readFileSync(join(dir, `${schemaName(t)}.json`), 'utf8'));
    expect(committed).toEqual(detailJsonSchema(t));
  });

  it('holds one schema per detail type and nothing else', () => {
    expect(readdirSync(dir).sort()).toEqual(CATALOG_DETAIL_TYPES.map((t) => `${schemaName(t)}.json`).sort());
  });
});

describe('assertCatalogued', () => {
  const discovered = {
    region: 'us-east-1',
    instanceId: 'i-0a1b2c3d4e5f60001',
    eventId: 'instance-event-0d59937288b749b32',
    code: 'system-reboot',
    notBefore: '2026-12-03T20:00:00.000Z',
    deadline: '2026-12-03T20:00:00.000Z',
    source: 'poll',
  };

  it('accepts a detail with its optional fields absent', () => {
    expect(() => assertCatalogued('Notice Discovered', discovered)).not.toThrow();
  });

  it('refuses an unknown field, a missing field, a bad time and an unknown detail type', () => {
    expect(() => assertCatalogued('Notice Discovered', { ...discovered, extra: 1 })).toThrow(
      /Unrecognized key/,
    );
    const { eventId: _, ...noEvent } = discovered;
    expect(() => assertCatalogued('Notice Discovered', noEvent)).toThrow(
      /^"Notice Discovered" detail: eventId: /,
    );
    expect(() => assertCatalogued('Notice Discovered', { ...discovered, notBefore: 'soon' })).toThrow(
      /notBefore/,
    );
    expect(() => assertCatalogued('Notice Cleared', { ...discovered, why: 'forgotten' })).toThrow(/why/);
    expect(() => assertCatalogued('Notice Lost', discovered)).toThrow(
      '"Notice Lost" is not in the event catalog',
    );
  });
});
