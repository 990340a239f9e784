// Golden files: the exact text generate writes for both models and both formats.
// Regenerate after an intended change with `UPDATE_GOLDEN=1 npm run test:unit` and review the diff.
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GOLDEN_DIR, renderVariant, VARIANTS } from '../harness/inputs/generator-variants.js';

const update = process.env['UPDATE_GOLDEN'] === '1';

for (const variant of VARIANTS.filter((v) => v.golden)) {
  test(`golden: ${variant.name}`, (t) => {
    const dir = path.join(GOLDEN_DIR, variant.name);
    const files = renderVariant(variant);
    if (update) {
      mkdirSync(dir, { recursive: true });
      for (const [name, content] of files) writeFileSync(path.join(dir, name), content);
    }
    t.true(existsSync(dir), `no golden files in ${dir}; run with UPDATE_GOLDEN=1`);
    t.deepEqual(readdirSync(dir).sort(), [...files.keys()].sort());
    for (const [name, content] of files) t.is(content, readFileSync(path.join(dir, name), 'utf8'), `${variant.name}/${name} differs from the golden file`);
  });
}
