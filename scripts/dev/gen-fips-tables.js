#!/usr/bin/env node
// Prints src/core/fips-tables.ts from the builders in dist/core/fips.js (npm run build first).
'use strict';
const path = require('path');
const fips = require(path.join(__dirname, '..', '..', 'dist', 'core', 'fips.js'));
const t = fips.buildTransitions();
const b64 = Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64');
const lines = [];
for (let i = 0; i < b64.length; i += 120) lines.push(`  '${b64.slice(i, i + 120)}'`);
process.stdout.write(`// Generated; do not edit. The literal tables of the FIPS engine (src/core/fips.ts):
// building them at run time made V8 optimise the builder's loops (~6 MiB of peak
// RSS and 16-28 ms of a slow VM's start-up). test/core/fips.test.ts checks that
// they are exactly what fips.ts's builders make; regenerate with
//   node scripts/dev/gen-fips-tables.js > src/core/fips-tables.ts   (after npm run build)
export const CODES_IN_USE: readonly number[] = ${JSON.stringify(fips.codesInUse(t))};
/** buildInnerRuns(): the runs inside each byte, packed (see fips.ts) */
export const INNER_RUNS: ReadonlyArray<readonly number[]> = [
${fips.buildInnerRuns().map((r) => `  ${JSON.stringify(Array.from(r))}`).join(',\n')},
];
/** buildLeadLength() */
export const LEAD_LENGTH: readonly number[] = ${JSON.stringify(fips.buildLeadLength())};
/** buildTransitions(): 64 states x 256 bytes, Uint16 little-endian, base64 */
export const TRANSITIONS_BASE64 =
${lines.join(' +\n')};
`);
