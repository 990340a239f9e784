import test from 'ava';
import { readFileSync } from 'node:fs';
import { spliceReference } from '../../cli/reference.js';
import { loadCommands } from '../../cli/commands.js';
import { PROGRAM } from '../../runtime/version.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('README CLI reference matches the option definitions (run `npm run readme`)', async (t) => {
  t.is(await spliceReference(readme, PROGRAM), readme);
});

test('README reference names every option of every command', async (t) => {
  for (const c of await loadCommands()) for (const o of c.options) t.true(readme.includes(`\`--${o.name}\``), `${c.name} --${o.name}`);
});
