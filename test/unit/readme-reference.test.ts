import test from 'ava';
import { readFileSync } from 'node:fs';
import { spliceReference } from '../../cli/reference.js';
import { loadCommands } from '../../cli/commands.js';
import { PROGRAM } from '../../runtime/version.js';

const page = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

test('docs/cli.md matches the option definitions (run `npm run docs:cli`)', async (t) => {
  t.is(await spliceReference(page, PROGRAM), page);
});

test('docs/cli.md names every option of every command', async (t) => {
  for (const c of await loadCommands()) for (const o of c.options) t.true(page.includes(`\`--${o.name}\``), `${c.name} --${o.name}`);
});
