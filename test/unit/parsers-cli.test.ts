import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_LINE_BYTES } from '../../parsers/lines.js';
import type { LogRecord } from '../../parsers/record.js';
import { checkedRecords } from '../harness/checks/record-schema.js';
import { CLI, sample } from '../harness/inputs/samples.js';

const dir = mkdtempSync(path.join(tmpdir(), 'parse-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `libvirt-telemetry parse ARGS` with `input` on stdin. */
async function parse(args: string[], input: Buffer | string = '') {
  const child = spawn(process.execPath, [CLI, 'parse', ...args]);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => {}); // the CLI may exit before reading stdin (bad usage)
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const stdout = Buffer.concat(out).toString('utf8');
  const records = (): LogRecord[] => (stdout === '' ? [] : checkedRecords(stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as LogRecord)));
  return { code, stdout, stderr: Buffer.concat(err).toString('utf8'), get records() { return records(); } };
}

function file(name: string, content: Buffer | string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

test('a QEMU log: JSON lines, domain from the file name', async (t) => {
  const r = await parse([sample('qemu/instance-00000b2c.log')]);
  t.is(r.code, 0);
  t.is(r.stderr, '');
  t.is(r.records.length, 10);
  t.true(r.records.every((x) => x.domain === 'instance-00000b2c' && x.source === 'qemu'));
});

test('stdin with --domain, and each --format on its sample', async (t) => {
  const r = await parse(['--domain', 'vm-7', '-'], readFileSync(sample('qemu/instance-00000e5f.log')));
  t.is(r.code, 0);
  t.true(r.records.every((x) => x.domain === 'vm-7'));
  t.like(r.records.find((x) => x.kind === 'panic'), { level: 'error' });
  const journal = await parse(['--format', 'journal', sample('journal/libvirtd.service.json')]);
  t.is(journal.code, 0);
  t.is(journal.records.length, 11);
  const cri = await parse(['--format=cri', sample('containers/libvirt-7k2xq_openstack_libvirtd-4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d.log')]);
  t.is(cri.code, 0);
  t.is(cri.records.length, 10);
  const libvirtd = await parse(['--format', 'libvirtd', '-'], '2024-05-01 10:16:03.131+0000: 2204: info : hostname: hv-node-01\n');
  t.like(libvirtd.records, [{ kind: 'libvirt_log', message: 'hostname: hv-node-01', thread: 2204 }]);
});

test('bad usage: one line on stderr, exit code 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [[path.join(dir, 'missing.log')], /cannot read '.*missing\.log': no such file/],
    [[dir], /is a directory/],
    [['--format', 'syslog', sample('qemu/instance-00000a1b.log')], /--format: must be one of qemu, libvirtd, journal, cri; got 'syslog'/],
    [[], /missing FILE/],
    [['--max-line-bytes', '10', '-'], /--max-line-bytes: must be at least 1 KiB, got '10' \(10 bytes\)/],
  ];
  for (const [args, message] of cases) {
    const r = await parse(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, message);
    t.is(r.stderr.trimEnd().split('\n').length, 1);
    t.deepEqual(r.records, []);
  }
});

test('--help lists the formats and the line limit', async (t) => {
  const r = await parse(['--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /--format qemu\|libvirtd\|journal\|cri/);
  t.regex(r.stdout, /--max-line-bytes SIZE/);
});

test('empty file: no records, exit 0', async (t) => {
  const r = await parse([file('empty.log', '')]);
  t.is(r.code, 0);
  t.deepEqual(r.records, []);
});

test('binary garbage, invalid UTF-8 and a 10 MiB line: exit 0, every line kept, flagged', async (t) => {
  const garbage = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + (i >> 3)) & 0xff));
  const g = await parse([file('garbage.log', garbage)]);
  t.is(g.code, 0);
  t.true(g.records.length > 0);
  t.true(g.records.some((x) => x.invalid_utf8 === true));

  const content = Buffer.concat([
    Buffer.from('2024-05-01 10:00:00.000+0000: shutting down, reason=crashed\n'),
    Buffer.from([0x63, 0x68, 0xc3, 0x28, 0x0a]),
    Buffer.alloc(10 * 1024 * 1024, 'y'),
    Buffer.from('\n2024-05-01T10:00:01.000002Z qemu-system-x86_64: terminating on signal 15\n'),
  ]);
  const r = await parse(['--domain', 'x', file('mixed.log', content)]);
  t.is(r.code, 0);
  t.deepEqual(r.records.map((x) => x.kind), ['domain_shutdown', 'unparsed', 'unparsed', 'qemu_signal']);
  t.like(r.records[1], { message: 'ch\uFFFD(', invalid_utf8: true });
  t.like(r.records[2], { truncated: true });
  t.is(r.records[2]!.message.length, DEFAULT_MAX_LINE_BYTES, 'the default line limit, the same as the sidecar\'s');
  t.is(r.records[3]!.signal, 15);
});

test('CRLF line endings and a missing final newline give the same records as the original', async (t) => {
  const original = readFileSync(sample('qemu/instance-00000d4e.log'), 'utf8');
  const crlf = file('instance-00000d4e.log', original.replaceAll('\n', '\r\n').replace(/\r\n$/, ''));
  t.deepEqual((await parse([crlf])).records, (await parse([sample('qemu/instance-00000d4e.log')])).records);
});

test('a journal line that is not JSON is kept as unparsed', async (t) => {
  const r = await parse(['--format', 'journal', '-'], '{"MESSAGE":"ok","PRIORITY":"6","LIBVIRT_SOURCE":"util.log"}\n{broken\n');
  t.deepEqual(r.records.map((x) => [x.kind, x.message]), [['libvirt_log', 'ok'], ['unparsed', '{broken']]);
});
