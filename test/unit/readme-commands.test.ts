// Every shell command of README.md is run by a test (issue 15): the ones that need no daemon here, as a
// user types them, in an empty directory; the others are claimed by the integration test or CI that runs
// them (test/harness/checks/readme-commands.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkedRecords } from '../harness/checks/record-schema.js';
import { CLAIMS, claimsOf, commandsRunBy, readmeCommands } from '../harness/checks/readme-commands.js';
import { CLI, REPO_ROOT, sample } from '../harness/inputs/samples.js';

test('the README has shell commands, and each one is claimed by exactly one test or CI step', (t) => {
  const commands = readmeCommands();
  t.true(commands.length >= 10, commands.join('\n'));
  for (const command of commands) t.is(claimsOf(command).length, 1, `README command claimed ${claimsOf(command).length} times: ${command}`);
});

test('every claim still matches a README command, and CI and the benches run what they claim', (t) => {
  const commands = readmeCommands();
  for (const claim of CLAIMS) {
    t.true(commands.some((c) => claim.command.test(c)), `no README command left for ${claim.command}`);
    if ('evidence' in claim.runner) {
      const { file, contains } = claim.runner.evidence;
      t.true(readFileSync(path.join(REPO_ROOT, file), 'utf8').includes(contains), `${file} does not contain ${contains}`);
    }
  }
  const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // The bench scripts named in the README exist; a bench that runs another README command says so by its evidence.
  for (const command of commandsRunBy('bench').filter((c) => c.startsWith('npm run '))) t.truthy(scripts[command.replace('npm run ', '')], command);
});

test('the extraction finds commands as a reader sees them', (t) => {
  const markdown = '```sh\n# a comment\nnpm ci && npm run build   # why\nfoo --x \'#1\' &\n```\n```text\nnot a command\n```\n';
  t.deepEqual(readmeCommands(markdown), ['npm ci', 'npm run build', "foo --x '#1' &"]);
});

/** The README's placeholder for a QEMU domain log, replaced by a sample one (the only substitution). */
const DOMAIN_LOG_PLACEHOLDER = '/var/log/libvirt/qemu/<domain>.log';

for (const command of commandsRunBy('unit')) {
  test(`README: ${command}`, (t) => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lt-readme-'));
    t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
    // As the README's alias does: `libvirt-telemetry` (and `node dist/cli/main.js` in a clone) is the built CLI.
    const script = command
      .replace(/^(libvirt-telemetry|node dist\/cli\/main\.js) /, `'${process.execPath}' '${CLI}' `)
      .replace(DOMAIN_LOG_PLACEHOLDER, `'${sample('qemu/instance-00000a1b.log')}'`);
    const run = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
    t.is(run.status, 0, run.stderr);
    const out = /--out (\S+)/.exec(command)?.[1];
    if (out !== undefined) {
      const written = readdirSync(path.join(cwd, out)).sort();
      if (/ generate manifests /.test(command)) t.true(written.includes('exporter.yaml') && written.includes('libvirt-sidecar-patch.yaml'), written.join(' '));
      else t.deepEqual(written, ['fluent-bit.conf', 'fluent-bit.yaml', 'parsers-libvirt.conf']);
    }
    if (/ parse /.test(command)) {
      const records = checkedRecords(run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
      t.true(records.length > 0);
    }
  });
}
