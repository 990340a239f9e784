// Rewrites the CLI reference block of docs/cli.md from the commands' option specs (`npm run docs:cli`).
import { readFileSync, writeFileSync } from 'node:fs';
import { spliceReference } from '../cli/reference.js';
import { PROGRAM } from '../runtime/version.js';

const pagePath = new URL('../../docs/cli.md', import.meta.url);
const before = readFileSync(pagePath, 'utf8');
const after = await spliceReference(before, PROGRAM);
if (after !== before) writeFileSync(pagePath, after);
process.stdout.write(after === before ? 'docs/cli.md up to date\n' : 'docs/cli.md rewritten\n');
