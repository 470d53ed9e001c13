// The files generated from the op registry (scripts/gen-ops.ts) are up to date: a changed or new
// op without `npm run gen` fails here.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DOC_FILE, generateOpsDoc, generateSchema, SCHEMA_FILE } from '../../scripts/gen-ops.js';

it('schemas/graph.schema.json is generated from the registry (run `npm run gen`)', () => {
  const text = readFileSync(SCHEMA_FILE, 'utf8');
  expect(generateSchema(text) === text, 'schemas/graph.schema.json is stale: run `npm run gen`').toBe(true);
});

it('docs/ops.md is generated from the registry (run `npm run gen`)', () => {
  expect(generateOpsDoc() === readFileSync(DOC_FILE, 'utf8'), 'docs/ops.md is stale: run `npm run gen`').toBe(true);
});
