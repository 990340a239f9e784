// Domains come and go, libvirtd dies and comes back: the exporter follows without restarting.
import { rmSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { paths, URIS } from '../env/layout.js';
import { Metrics } from '../../exporter/catalogue.js';
import { defineTinyDomain, removeDomain, testDomainName, waitForDomainState, type Teardown, type TinyDomain } from '../harness/env/domains.js';
import { startExporter, type RunningExporter } from '../harness/roles/exporter.js';
import { select, valueOf } from '../harness/readers/exposition.js';
import { startLibvirtd, stopLibvirtd, testenvInfo, virsh } from '../harness/env/testenv.js';

let exporter: RunningExporter;

/**
 * Cleanup for a domain the test itself may have made disappear: removeDomain() expects it to still be known
 * to libvirt (virsh destroy of an unknown name fails), so undefine a leftover and delete its files only then.
 */
function removeAtTeardown(t: Teardown, domain: TinyDomain): void {
  t.teardown(async () => {
    const known = await virsh(['domuuid', domain.name]).then(() => true, () => false);
    if (known) await removeDomain(domain);
    else rmSync(path.join(paths.domains, domain.name), { recursive: true, force: true });
  });
}

test.before(async () => {
  exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp, '--libvirt.timeout', '3s']);
});

test.after.always(async () => {
  await exporter?.stop();
});

test.serial('a destroyed transient domain disappears; a destroyed persistent one stays as shut off, without runtime series', async (t) => {
  const transient = await defineTinyDomain(testDomainName('exp-transient'), { enospcDisk: false });
  removeAtTeardown(t, transient);
  const persistent = await defineTinyDomain(testDomainName('exp-persistent'), { enospcDisk: false });
  removeAtTeardown(t, persistent);
  await virsh(['start', transient.name]);
  await virsh(['start', persistent.name]);
  await virsh(['undefine', transient.name]); // running, no longer defined: transient
  const transientUuid = (await virsh(['domuuid', transient.name])).trim();
  const persistentUuid = (await virsh(['domuuid', persistent.name])).trim();

  let s = (await exporter.scrape()).samples;
  t.is(select(s, Metrics.vcpuTime.name, { uuid: transientUuid }).length, 1);
  t.is(select(s, Metrics.vcpuTime.name, { uuid: persistentUuid }).length, 1);

  await virsh(['destroy', transient.name]);
  await virsh(['destroy', persistent.name]);
  await waitForDomainState(persistent.name, 'shut off');
  s = (await exporter.scrape()).samples;
  t.deepEqual(s.filter((x) => x.labels.uuid === transientUuid), [], 'no series of the destroyed transient domain');
  t.deepEqual(select(s, Metrics.state.name, { uuid: persistentUuid }).map((x) => [x.labels.state, x.labels.reason]), [['shutoff', 'destroyed']]);
  t.is(select(s, Metrics.vcpuTime.name, { uuid: persistentUuid }).length, 0);
  t.is(select(s, Metrics.blockReadBytes.name, { uuid: persistentUuid }).length, 0);

  await removeDomain(persistent);
  s = (await exporter.scrape()).samples;
  t.deepEqual(s.filter((x) => x.labels.uuid === persistentUuid), [], 'no series of the undefined domain');
});

test.serial('overlapping scrapes share one collection', async (t) => {
  // libvirtd held still (SIGSTOP) for half a second, so all six scrapes arrive while one collection waits:
  // a collection takes a few ms, too short to overlap scrapes reliably otherwise.
  const libvirtd = testenvInfo().pids.libvirtd;
  process.kill(libvirtd, 'SIGSTOP');
  t.teardown(() => process.kill(libvirtd, 'SIGCONT'));
  const pending = Promise.all(Array.from({ length: 6 }, () => exporter.scrape()));
  await new Promise((r) => setTimeout(r, 500));
  process.kill(libvirtd, 'SIGCONT');
  const scrapes = await pending;
  const durations = scrapes.map((s) => valueOf(s.samples, Metrics.scrapeDuration.name));
  // Each collection measures its own duration: one value to the nanosecond means one shared collection.
  t.is(new Set(durations).size, 1, `durations ${durations.join(', ')}`);
  t.true(durations[0]! >= 0.4, `the shared collection waited for libvirtd: ${durations[0]} s`);
  t.true(scrapes.every((s) => valueOf(s.samples, Metrics.up.name) === 1));
});

test.serial('libvirtd killed: libvirt_up 0 at once, 1 again after the restart, same exporter process', async (t) => {
  const domain = await defineTinyDomain(testDomainName('exp-restart'), { enospcDisk: false, cleanup: t });
  await virsh(['start', domain.name]);
  const uuid = (await virsh(['domuuid', domain.name])).trim();
  t.is(valueOf((await exporter.scrape()).samples, Metrics.up.name), 1);

  t.teardown(() => startLibvirtd().then(() => undefined));
  await stopLibvirtd('SIGKILL');
  const down = await exporter.scrape();
  t.is(down.status, 200);
  // At once: a refused connection does not wait for --libvirt.timeout (5 s), the bound that a loaded machine needs.
  t.true(down.ms < 5000, `scrape with libvirtd down took ${down.ms} ms`);
  t.is(valueOf(down.samples, Metrics.up.name), 0);
  t.is(valueOf(down.samples, Metrics.lastScrapeSuccess.name), 0);
  t.deepEqual(down.samples.filter((x) => x.labels.uuid !== undefined), []);

  // An exporter started while libvirtd is down serves libvirt_up 0 and keeps retrying.
  const late = await startExporter(['--libvirt.uri', URIS.qemuTcp]);
  t.teardown(() => late.stop());
  t.is(valueOf((await late.scrape()).samples, Metrics.up.name), 0);
  t.regex(late.log(), /cannot connect to libvirtd/);

  await startLibvirtd();
  // The exporter reconnects on the next scrape (or its backoff timer got there first).
  let up = await exporter.scrape();
  for (let i = 0; i < 10 && valueOf(up.samples, Metrics.up.name) !== 1; i++) {
    await new Promise((r) => setTimeout(r, 300));
    up = await exporter.scrape();
  }
  t.is(valueOf(up.samples, Metrics.up.name), 1);
  let lateUp = await late.scrape();
  for (let i = 0; i < 10 && valueOf(lateUp.samples, Metrics.up.name) !== 1; i++) {
    await new Promise((r) => setTimeout(r, 300));
    lateUp = await late.scrape();
  }
  t.is(valueOf(lateUp.samples, Metrics.up.name), 1);
  // libvirtd reconnected to the running QEMU: the domain is back with its stats.
  t.is(select(up.samples, Metrics.vcpuTime.name, { uuid }).length, 1);
  t.regex(exporter.log(), /lost the connection to libvirtd/);
});
