import test from 'ava';
import v8 from 'node:v8';
import vm from 'node:vm';
import { readNovaMetadata } from '../../libvirt/nova-metadata.js';

// Shaped like the domain XML Nova's libvirt driver writes (nova/virt/libvirt/config.py).
const novaDomain = (prefix: string) => `<domain type='kvm' id='3'>
  <name>instance-0000002a</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <metadata>
    <${prefix}:instance xmlns:${prefix}="http://openstack.org/xmlns/libvirt/nova/1.1">
      <${prefix}:package version="27.1.0"/>
      <${prefix}:name>web &amp; api-1</${prefix}:name>
      <${prefix}:creationTime>2024-05-01 10:11:12</${prefix}:creationTime>
      <${prefix}:flavor name="m1.small">
        <${prefix}:memory>2048</${prefix}:memory>
        <${prefix}:vcpus>1</${prefix}:vcpus>
      </${prefix}:flavor>
      <${prefix}:owner>
        <${prefix}:user uuid="0a1b2c">alice</${prefix}:user>
        <${prefix}:project uuid="9f8e7d">demo</${prefix}:project>
      </${prefix}:owner>
      <${prefix}:root type="image" uuid="d1e2f3"/>
    </${prefix}:instance>
    <other:thing xmlns:other="urn:example"><other:name>not nova</other:name></other:thing>
  </metadata>
  <memory unit='KiB'>131072</memory>
  <devices><disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk></devices>
</domain>`;

const expected = { instanceName: 'web & api-1', flavor: 'm1.small', projectId: '9f8e7d', projectName: 'demo', userId: '0a1b2c', userName: 'alice' };

test('reads instance name, flavor, project and user from the Nova namespace', async (t) => {
  t.deepEqual(await readNovaMetadata(novaDomain('nova')), expected);
});

test('matches by namespace URI, whatever the prefix', async (t) => {
  t.deepEqual(await readNovaMetadata(novaDomain('n11')), expected);
  const defaultNs = novaDomain('nova').replace(/nova:/g, '').replace('xmlns:nova=', 'xmlns=');
  t.deepEqual(await readNovaMetadata(defaultNs), expected);
});

test('elements of the same local names in another namespace are ignored', async (t) => {
  const foreign = novaDomain('nova').replace('http://openstack.org/xmlns/libvirt/nova/1.1', 'http://openstack.org/xmlns/libvirt/nova/0.9');
  t.is(await readNovaMetadata(foreign), undefined);
});

test('a domain without Nova metadata has none', async (t) => {
  t.is(await readNovaMetadata("<domain type='qemu'><name>tiny</name><metadata/></domain>"), undefined);
});

test('missing pieces are empty strings, not failures', async (t) => {
  const xml = `<domain><metadata><nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:name>x</nova:name></nova:instance></metadata></domain>`;
  t.deepEqual(await readNovaMetadata(xml), { instanceName: 'x', flavor: '', projectId: '', projectName: '', userId: '', userName: '' });
});

test('malformed XML throws', async (t) => {
  await t.throwsAsync(readNovaMetadata('<domain><metadata><nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"></domain>'));
});

test('the metadata read keeps no part of the domain XML alive (callers cache it per domain)', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Long values: V8 copies short substrings but makes longer ones views into the whole document.
  const filler = 'x'.repeat(50_000);
  const xml = (i: number) =>
    `<domain><name>instance-${i}</name><description>${filler}</description><metadata>` +
    `<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:name>web-frontend-instance-${i}</nova:name>` +
    `<nova:flavor name="m1.small-with-a-long-name"/><nova:owner><nova:user uuid="0a1b2c3d4e5f46478899aabbccddeeff">alice-the-administrator</nova:user>` +
    `<nova:project uuid="9f8e7d6c5b4a49388a1b2c3d4e5f6a7b">demo-project-of-alice</nova:project></nova:owner></nova:instance></metadata></domain>`;
  gc();
  const before = v8.getHeapStatistics().used_heap_size;
  const kept = [];
  for (let i = 0; i < 100; i++) kept.push(await readNovaMetadata(xml(i)));
  gc();
  const retained = v8.getHeapStatistics().used_heap_size - before;
  t.is(kept[99]?.projectId, '9f8e7d6c5b4a49388a1b2c3d4e5f6a7b');
  // 100 documents of 50 kB each: holding any of them would retain about 5 MB.
  t.true(retained < 1_000_000, `${retained} bytes retained`);
});
