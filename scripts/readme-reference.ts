// Rewrites the CLI reference block of README.md from the commands' option specs (`npm run readme`).
import { readFileSync, writeFileSync } from 'node:fs';
import { spliceReference } from '../cli/reference.js';
import { PROGRAM } from '../runtime/version.js';

const readmePath = new URL('../../README.md', import.meta.url);
const before = readFileSync(readmePath, 'utf8');
const after = await spliceReference(before, PROGRAM);
if (after !== before) writeFileSync(readmePath, after);
process.stdout.write(after === before ? 'README reference up to date\n' : 'README reference rewritten\n');
