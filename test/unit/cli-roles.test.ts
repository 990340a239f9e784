// Every role the image can be started with (`libvirt-telemetry <role>`) runs from the built dist/.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { COMMAND_NAMES, loadCommands } from '../../cli/commands.js';
import { CLI } from '../harness/repo.js';

test('every role of the design is registered, each module defining the command it is registered for', async (t) => {
  t.deepEqual([...COMMAND_NAMES].sort(), ['events', 'exporter', 'generate', 'parse', 'sidecar']);
  t.deepEqual((await loadCommands()).map((c) => c.name), COMMAND_NAMES);
});

for (const name of COMMAND_NAMES) {
  test(`node dist/cli/main.js ${name} --help exits 0 with its usage`, (t) => {
    const r = spawnSync(process.execPath, [CLI, name, '--help'], { encoding: 'utf8', timeout: 30_000 });
    t.is(r.status, 0, r.stderr);
    t.true(r.stdout.startsWith(`Usage: libvirt-telemetry ${name} [options]`), r.stdout.slice(0, 200));
    t.is(r.stderr, '');
  });
}

test('an unknown role exits 2', (t) => {
  const r = spawnSync(process.execPath, [CLI, 'exporterd', '--help'], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /unknown command 'exporterd'/);
});
