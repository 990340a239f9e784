// The shared test environment itself: daemons up and attributed in the journal, the tiny Linux
// guest boots and takes commands, and every action the other tests rely on works on it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootingTestTimeout, guestConsole, type GuestConsole } from '../harness/env/console.js';
import {
  defineTinyDomain,
  defineTinyLinuxDomain,
  domainState,
  qemuPid,
  removeDomain,
  testDomainName,
  waitForDomainState,
  type Teardown,
  type TinyDomain,
} from '../harness/env/domains.js';
import { DEFAULT_VIRTLOGD_MAX_SIZE, journalEntries, restartLibvirtd, setVirtlogdMaxSize, testenvInfo, virsh } from '../harness/env/testenv.js';

async function startAndAttach(domain: TinyDomain, cleanup?: Teardown): Promise<GuestConsole> {
  await virsh(['start', domain.name]);
  const console = await guestConsole(domain);
  cleanup?.teardown(() => console.close());
  return console;
}

test.serial('the environment is up: QEMU and test drivers answer over TCP and the unix socket', async (t) => {
  const info = testenvInfo();
  t.regex(await virsh(['version'], { uri: info.uris.qemuTcp }), /Running hypervisor: QEMU \d+\.\d+/);
  t.regex(await virsh(['version'], { uri: info.uris.qemuUnix }), /Running hypervisor: QEMU/);
  t.regex(await virsh(['list', '--all', '--name'], { uri: info.uris.testTcp }), /^test$/m);
  t.true(existsSync(info.guest.kernel) && existsSync(info.guest.initrd));
});

test.serial('testenv status reports the running daemons; a bad verb is a usage error', async (t) => {
  const cli = fileURLToPath(new URL('../env/main.js', import.meta.url));
  const status = spawnSync(process.execPath, [cli, 'status', '--json'], { encoding: 'utf8' });
  t.is(status.status, 0);
  const reported = JSON.parse(status.stdout) as { up: boolean; answering: boolean; daemons: Record<string, { pid: number; alive: boolean }> };
  t.true(reported.up && reported.answering);
  const { pids } = testenvInfo();
  t.deepEqual(
    Object.fromEntries(Object.entries(reported.daemons).map(([name, daemon]) => [name, daemon.pid])),
    { journald: pids.journald, virtlogd: pids.virtlogd, libvirtd: pids.libvirtd },
  );
  const bad = spawnSync(process.execPath, [cli, 'upp'], { encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^testenv: usage: testenv up \| down/);
  t.is(bad.stderr.trim().split('\n').length, 1);
});

test.serial('a tiny Linux domain boots, runs commands, logs to the journal and its qemu log, and is destroyed', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const since = new Date();
  const domain = await defineTinyLinuxDomain(testDomainName('smoke'), { cleanup: t });
  const console = await startAndAttach(domain, t);

  const ready = await console.waitReady();
  t.regex(ready, /watchdog: \/dev\/watchdog, disks: vda vdb/);
  const echoed = await console.run('echo hello from $(uname -r); false');
  t.regex(echoed.output, /^hello from 6\.\d+/m);
  t.is(echoed.status, 1);
  t.true(qemuPid(domain.name).pid > 0);

  await virsh(['destroy', domain.name]);
  t.deepEqual(await domainState(domain.name), { state: 'shut off', reason: 'destroyed' });

  const log = readFileSync(domain.qemuLog, 'utf8');
  t.regex(log, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: starting up libvirt version: \d+\.\d+\.\d+/m);
  t.regex(log, /shutting down, reason=destroyed/);

  const entries = await journalEntries({ unit: 'libvirtd.service', since });
  t.true(entries.length > 0, 'libvirtd logged to journald since the test started');
  // Only the attribution is checked per entry: other tests may have restarted libvirtd meanwhile.
  t.true(entries.every((entry) => entry['_SYSTEMD_UNIT'] === 'libvirtd.service' && entry['_COMM'] === 'libvirtd'));
  t.true(
    entries.some((entry) => typeof entry['MESSAGE'] === 'string' && entry['MESSAGE'].includes(`name='${domain.name}'`) && entry['MESSAGE'].includes('is tainted: high-privileges')),
    'the start of the domain left its "tainted: high-privileges" warning in the journal',
  );
});

// One guest for the in-place actions, booted once: each step is its own test so that none of them
// comes near ava's timeout on a loaded machine.
let actions: { domain: TinyDomain; console: GuestConsole } | undefined;

test.after.always(async () => {
  await actions?.console.close();
  if (actions) await removeDomain(actions.domain);
});

const booted = (): { domain: TinyDomain; console: GuestConsole } => {
  if (!actions) throw new Error('the actions guest did not boot');
  return actions;
};

test.serial('guest actions: boot', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const domain = await defineTinyLinuxDomain(testDomainName('actions'));
  actions = { domain, console: await startAndAttach(domain) };
  t.regex(await actions.console.waitReady(), /ready/);
});

test.serial('guest actions: reboot -f resets the guest in place (same domain id)', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const { domain, console } = booted();
  const id = (await virsh(['domid', domain.name])).trim();
  const mark = console.mark();
  console.send('reboot -f');
  await console.waitReady({ from: mark });
  t.is((await virsh(['domid', domain.name])).trim(), id);
});

test.serial('guest actions: closing /dev/watchdog without the magic character resets the guest', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const { console } = booted();
  const mark = console.mark();
  console.send('echo > /dev/watchdog');
  // The kernel's own words (the ready line names /dev/watchdog too), then a boot after them: the reset.
  const closed = await console.waitFor(/watchdog did not stop/, { from: mark });
  t.regex(await console.waitReady({ from: mark + closed.index + closed[0].length }), /ready/);
});

test.serial('guest actions: virtlogd rotates the console log at the size set by the helper', async (t) => {
  const { domain, console } = booted();
  t.teardown(() => setVirtlogdMaxSize(DEFAULT_VIRTLOGD_MAX_SIZE));
  await setVirtlogdMaxSize(64 * 1024);
  t.false(existsSync(`${domain.consoleLog}.0`));
  // 100 000 characters on the console: more than the limit, so the log is rotated once.
  console.send('yes rotate-me | head -c 100000; echo; echo rotation-done');
  await console.waitFor('rotation-done');
  t.true(existsSync(`${domain.consoleLog}.0`));
  t.true(statSync(`${domain.consoleLog}.0`).size <= 64 * 1024);
  t.true(statSync(domain.consoleLog).size < 100_000, 'the live log continues in a new file');
});

test.serial('guest actions: writing past the 1 MiB tmpfs behind vdb pauses the domain with ENOSPC', async (t) => {
  const { domain, console } = booted();
  console.send('dd if=/dev/zero of=/dev/vdb bs=1M count=4 conv=fsync');
  t.deepEqual(await waitForDomainState(domain.name, 'paused'), { state: 'paused', reason: 'I/O error' });
  t.regex(await virsh(['domblkerror', domain.name]), /vdb: no space/);
});

test.serial('a guest kernel panic (sysrq c) reported through pvpanic stops the domain as crashed', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const domain = await defineTinyLinuxDomain(testDomainName('panic'), { cleanup: t });
  const console = await startAndAttach(domain, t);
  await console.waitReady();
  console.send('echo c > /proc/sysrq-trigger');
  t.deepEqual(await waitForDomainState(domain.name, 'shut off'), { state: 'shut off', reason: 'crashed' });
});

test.serial('virsh shutdown: the guest powers off on the ACPI power button', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const domain = await defineTinyLinuxDomain(testDomainName('acpi'), { cleanup: t });
  const console = await startAndAttach(domain, t);
  await console.waitReady();
  await virsh(['shutdown', domain.name]);
  t.deepEqual(await waitForDomainState(domain.name, 'shut off'), { state: 'shut off', reason: 'shutdown' });
});

test.serial('libvirtd restarted by the helper comes back with the running domain and its id', async (t) => {
  const domain = await defineTinyDomain(testDomainName('restart'), { cleanup: t });
  await virsh(['start', domain.name]);
  const id = (await virsh(['domid', domain.name])).trim();
  const qemu = qemuPid(domain.name);
  const before = testenvInfo().pids.libvirtd;

  const after = await restartLibvirtd('SIGKILL');
  t.not(after.pid, before);
  t.is(testenvInfo().pids.libvirtd, after.pid, 'the state records the new pid');
  t.is((await virsh(['domid', domain.name])).trim(), id);
  t.is(qemuPid(domain.name).pid, qemu.pid);
});
