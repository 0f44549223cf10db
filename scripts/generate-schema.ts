// Writes schema/manifest-v1.schema.json from the zod schema: `npm run schema`. A unit test fails when they drift.
import { writeFileSync } from 'node:fs';
import { manifestJsonSchema } from '../shared/manifest.ts';

writeFileSync('schema/manifest-v1.schema.json', `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log('wrote schema/manifest-v1.schema.json');
