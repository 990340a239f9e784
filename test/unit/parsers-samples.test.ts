import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  FLUENT_BIT_MULTILINE_PARSERS,
  FLUENT_BIT_PARSERS,
  MULTILINE_NAMES,
  PARSER_CHAINS,
  renderOnigmoRegex,
  toJsRegExp,
} from '../../parsers/fluentbit.js';
import { parseJournalEntry } from '../../parsers/journal.js';
import { MultilineFolder } from '../../parsers/multiline.js';
import type { LogRecord } from '../../parsers/record.js';
import { createCriParser } from '../../parsers/cri.js';
import { createLibvirtdTextParser, createQemuLogParser } from '../../parsers/textlog.js';
import { parseFile } from '../harness/roles/parse-file.js';
import { CRI_SAMPLES, JOURNAL_SAMPLES, QEMU_LOG_SAMPLES, linesOf, sample } from '../harness/inputs/samples.js';
import { SYNTHETIC_QEMU_LINES as L } from '../harness/inputs/qemu-lines.js';

const kinds = (records: LogRecord[]) => records.map((r) => r.kind);

function parseQemuLines(lines: readonly string[], domain = 'vm'): LogRecord[] {
  const parser = createQemuLogParser({ domain });
  return [...lines.flatMap((l) => parser.push(l)), ...parser.flush()];
}

test('every QEMU log sample parses without unparsed records and without losing a line', (t) => {
  for (const file of QEMU_LOG_SAMPLES) {
    const records = parseFile(file, 'qemu');
    t.deepEqual(records.filter((r) => r.kind === 'unparsed'), [], file);
    // Each input line is in exactly one record (the command line keeps its lines in `message`).
    t.is(records.reduce((n, r) => n + r.message.split('\n').length, 0), linesOf(file).length, file);
    for (const r of records) {
      t.is(r.source, 'qemu');
      t.is(r.domain, file.split('/').pop()!.replace(/\.log$/, ''));
      t.regex(r.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{3}|\d{6})Z$/);
    }
  }
});

test('instance-00000a1b.log: header, folded command line, chardev, guest power-off, second start', (t) => {
  const file = sample('qemu/instance-00000a1b.log');
  const lines = linesOf(file);
  const records = parseFile(file, 'qemu');
  t.deepEqual(kinds(records), [
    'domain_start', 'command_line', 'chardev', 'qemu_signal', 'domain_shutdown',
    'domain_start', 'command_line', 'chardev',
  ]);
  const [start, commandLine, chardev, signal, shutdown] = records as [LogRecord, LogRecord, LogRecord, LogRecord, LogRecord];
  t.like(start, {
    time: '2024-05-01T08:14:02.417Z',
    domain: 'instance-00000a1b',
    level: 'info',
    libvirt_version: '10.7.0',
    libvirt_package: '10.7.0-1 (Debian)',
    qemu_version: '9.0.2',
    qemu_package: 'Debian 1:9.0.2+ds-4',
    kernel: '6.6.47-cloud-amd64',
    hostname: 'hv-node-01',
  });
  const chardevLine = lines.indexOf('char device redirected to /dev/pts/1 (label charserial0)');
  t.is(commandLine.message, lines.slice(1, chardevLine).join('\n'));
  t.like(commandLine, { binary: '/usr/bin/qemu-system-x86_64', time: '2024-05-01T08:14:02.417Z', time_inferred: true });
  t.like(chardev, { pty: '/dev/pts/1', label: 'charserial0', time_inferred: true });
  t.like(signal, {
    time: '2024-05-01T12:31:05.118344Z',
    program: 'qemu-system-x86_64',
    signal: 15,
    sender_pid: 1462,
    sender_process: '/usr/sbin/libvirtd',
    message: 'terminating on signal 15 from pid 1462 (/usr/sbin/libvirtd)',
  });
  t.like(shutdown, { time: '2024-05-01T12:31:05.322Z', reason: 'shutdown', message: 'shutting down, reason=shutdown' });
  t.is(signal.time_inferred, undefined);
});

test('instance-00000b2c.log: mid-run taint, crash, sender already gone', (t) => {
  const records = parseFile(sample('qemu/instance-00000b2c.log'), 'qemu');
  t.like(records.find((r) => r.kind === 'taint'), { domain_id: 3, taint: 'custom-monitor', level: 'warning', time: '2024-05-01T11:27:50.064Z' });
  t.deepEqual(records.filter((r) => r.kind === 'domain_shutdown').map((r) => r.reason), ['crashed', 'shutdown']);
  t.like(records.find((r) => r.kind === 'qemu_signal'), { sender_pid: 90211, sender_process: '<unknown process>' });
});

test('instance-00000c3d.log: QEMU warnings and errors, failed incoming and outgoing migration', (t) => {
  const records = parseFile(sample('qemu/instance-00000c3d.log'), 'qemu');
  const messages = records.filter((r) => r.kind === 'qemu_message');
  t.deepEqual(messages.map((r) => r.level), ['warning', 'warning', 'error', 'error', 'warning', 'warning']);
  t.like(messages[0], { time: '2024-05-01T10:15:30.688512Z', message: "host doesn't support requested feature: CPUID.07H:EBX.hle [bit 4]" });
  t.like(messages[3], { message: 'load of migration failed: Invalid argument', program: 'qemu-system-x86_64' });
  t.like(records.find((r) => r.kind === 'migration'), { phase: 'initiating', time: '2024-05-01T15:02:48.019Z' });
  t.deepEqual(records.filter((r) => r.kind === 'domain_shutdown').map((r) => r.reason), ['failed', 'migrated']);
});

test('instance-00000d4e.log and instance-00000e5f.log: taint after the command line, destroy, Hyper-V panic', (t) => {
  const d4e = parseFile(sample('qemu/instance-00000d4e.log'), 'qemu');
  t.deepEqual(kinds(d4e), ['domain_start', 'command_line', 'taint', 'chardev', 'qemu_signal', 'domain_shutdown']);
  t.like(d4e[2], { taint: 'host-cpu', domain_id: 6, time: '2024-05-01T11:40:05.230Z' });
  t.is(d4e[5]!.reason, 'destroyed');
  const e5f = parseFile(sample('qemu/instance-00000e5f.log'), 'qemu');
  t.like(e5f.find((r) => r.kind === 'panic'), {
    level: 'error',
    panic_info: "hyper-v: arg1='0xd1', arg2='0x0', arg3='0x2', arg4='0x0', arg5='0xfffff8054a1c2b31'",
  });
});

test('real libvirt 9.0 logs: sender named by argv[0] only, Debian 12 package strings', (t) => {
  const tiny = parseFile(sample('real/qemu-tiny.log'), 'qemu');
  t.like(tiny[0], { libvirt_version: '9.0.0', libvirt_package: '9.0.0-4+deb12u2 (Debian)', qemu_version: '7.2.22', qemu_package: 'Debian 1:7.2+dfsg-7+deb12u18+b3', kernel: '6.18.44-fc-v782', hostname: 'vm' });
  t.like(tiny.find((r) => r.kind === 'qemu_signal'), { signal: 15, sender_pid: 22207, sender_process: 'libvirtd' });
  const linux = parseFile(sample('real/qemu-tinylinux.log'), 'qemu');
  t.deepEqual(linux.filter((r) => r.kind === 'taint').map((r) => r.domain_id), [3, 4, 5, 6]);
  t.deepEqual(linux.filter((r) => r.kind === 'domain_shutdown').map((r) => r.reason), ['shutdown', 'destroyed', 'crashed', 'crashed']);
});

test('shapes the samples lack: every shutdown reason form, migration resume, header variants, QEMU variants', (t) => {
  const [noPackage, commas, snapshot, resuming, taint, sigint, noFraction, option, thread, child, device, other, dump] = parseQemuLines([
    L.headerWithoutPackage, L.headerWithCommas, L.shutdownFromSnapshot, L.resumingMigration, L.taintWithDetail,
    L.signalWithoutSender, L.qemuTimeWithoutFraction, L.qemuOptionError, L.qemuThreadPrefix, L.libvirtFormatLine,
    L.externalDevice, L.externalDeviceCommand, L.otherLibvirtLine, L.kvmDump,
  ]);
  t.like(noPackage, { kind: 'domain_start', libvirt_version: '11.1.0', qemu_version: '9.2.2', qemu_package: 'qemu-9.2.2-1.fc42', hostname: 'fedora' });
  t.false('libvirt_package' in noPackage!);
  t.like(commas, { libvirt_package: '0ubuntu8.3 (Christian Ehrhardt <christian.ehrhardt@canonical.com> Thu, 30 Jul 2020 16:51:09 +0200)', qemu_version: '4.2.1', kernel: '5.4.0-42-generic' });
  t.false('qemu_package' in commas!);
  t.like(snapshot, { kind: 'domain_shutdown', reason: 'from snapshot' });
  t.like(resuming, { kind: 'migration', phase: 'resuming' });
  t.like(taint, { kind: 'taint', domain_id: 9, taint: 'deprecated-config', taint_detail: "machine type 'pc-i440fx-2.0'" });
  t.like(sigint, { kind: 'qemu_signal', signal: 2, message: 'terminating on signal 2' });
  t.false('sender_pid' in sigint!);
  t.like(noFraction, { kind: 'qemu_message', level: 'info', time: '2024-05-01T16:04:00.000000Z' });
  t.like(option, { kind: 'qemu_message', level: 'error', program: 'qemu-kvm', option: '-drive file=/dev/vg/disk,if=none,id=drive0', message: "Could not open '/dev/vg/disk': Permission denied" });
  t.like(thread, { kind: 'qemu_message', qemu_thread: '772366:main', level: 'warning', message: 'future form' });
  t.like(child, { kind: 'libvirt_log', thread: 4721, level: 'error', function: 'virCommandHandshakeChild', line: 441, message: 'Failed to set up child' });
  t.like(device, { kind: 'external_device', device: 'TPM Emulator', command: L.externalDeviceCommand, message: 'Starting external device: TPM Emulator' });
  t.like(other, { kind: 'libvirt_message', message: 'something libvirt may write one day' });
  t.like(dump, { kind: 'unparsed', level: 'unknown', message: L.kvmDump, time: '2024-05-01T16:08:00.800Z', time_inferred: true });
});

test('an untimestamped line before any timestamp has time null', (t) => {
  const [record] = parseQemuLines(['char device redirected to /dev/pts/9 (label x)']);
  t.like(record, { kind: 'chardev', time: null });
  t.false('time_inferred' in record!);
});

test('CRI sample: foreign wrapper line kept, multi-line libvirtd error joined, stream recorded', (t) => {
  const records = parseFile(CRI_SAMPLES[0]!, 'cri');
  t.deepEqual(records.filter((r) => r.kind === 'unparsed').map((r) => r.message), ['+ exec /usr/sbin/libvirtd']);
  t.is(records[0]!.time, '2024-05-01T08:02:11.483920117Z');
  t.is(records.length, 10);
  const error = records.find((r) => r.function === 'qemuProcessReportLogError')!;
  t.like(error, { kind: 'libvirt_log', source: 'libvirtd', level: 'error', thread: 2204, line: 1933, stream: 'stderr', time: '2024-05-01T10:16:03.131Z' });
  t.is(error.message.split('\n').length, 4);
  t.true(error.message.endsWith('qemu-system-x86_64: load of migration failed: Invalid argument'));
  t.like(records[1], { message: 'libvirt version: 10.7.0, package: 10.7.0-1 (Debian)', level: 'info', thread: 2204 });
  t.false('function' in records[1]!);
});

test('CRI partial records are joined up to F, per stream, and a non-UTC node time is converted', (t) => {
  const parser = createCriParser();
  const lines = [
    '2024-05-01T12:16:03.5+02:00 stderr P 2024-05-01 10:16:03.131+0000: 2204: error : f:1 : first ',
    '2024-05-01T12:16:03.6+02:00 stdout F unrelated stdout line',
    '2024-05-01T12:16:03.7+02:00 stderr P half, ',
    '2024-05-01T12:16:03.8+02:00 stderr F end',
  ];
  const records = [...lines.flatMap((l) => parser.push(l)), ...parser.flush()];
  t.like(records.find((r) => r.stream === 'stdout'), { kind: 'unparsed', message: 'unrelated stdout line', time: '2024-05-01T10:16:03.600000000Z' });
  t.like(records.find((r) => r.stream === 'stderr'), { kind: 'libvirt_log', message: 'first half, end', function: 'f', line: 1 });
});

test('libvirtd text: continuation lines join their message; a lone continuation stays unparsed', (t) => {
  const parser = createLibvirtdTextParser();
  const lines = [
    'orphan continuation',
    '2024-05-01 10:16:03.131+0000: 2204: error : qemuProcessReportLogError:1933 : internal error: first',
    'second',
    '',
    '2024-05-01 10:16:04.000+0000: 2205: warning : next',
  ];
  const records = [...lines.flatMap((l) => parser.push(l)), ...parser.flush()];
  t.deepEqual(kinds(records), ['unparsed', 'libvirt_log', 'libvirt_log']);
  // The empty continuation line adds a newline at the end of the message, which is not kept.
  t.is(records[1]!.message, 'internal error: first\nsecond');
  t.like(records[2], { thread: 2205, level: 'warning', message: 'next' });
});

test('journal samples: libvirt fields, priorities, cursors, µs times; PID 1 entries are service messages', (t) => {
  for (const file of JOURNAL_SAMPLES) {
    const records = parseFile(file, 'journal');
    t.is(records.length, linesOf(file).length);
    t.deepEqual(records.filter((r) => r.kind === 'unparsed'), [], file);
    for (const r of records) {
      t.regex(r.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      t.truthy(r.cursor);
    }
  }
  const records = parseFile(sample('journal/libvirtd.service.json'), 'journal');
  t.deepEqual(kinds(records).slice(0, 3), ['service_message', 'service_message', 'libvirt_log']);
  t.like(records[0], { pid: 1, unit: 'init.scope', level: 'info' });
  const error = records.find((r) => r.function === 'qemuProcessReportLogError')!;
  const raw = JSON.parse(linesOf(sample('journal/libvirtd.service.json')).find((l) => l.includes('qemuProcessReportLogError'))!);
  t.like(error, {
    level: 'error',
    libvirt_source: 'util.error',
    file: '../src/qemu/qemu_process.c',
    line: 1933,
    error_domain: 10,
    error_code: 1,
    pid: 1462,
    unit: 'libvirtd.service',
    cursor: raw.__CURSOR,
    boot_id: raw._BOOT_ID,
    message: raw.MESSAGE,
  });
  t.is(Date.parse(error.time!), Math.floor(Number(raw.__REALTIME_TIMESTAMP) / 1000));
  t.is(error.time!.slice(20, 26), raw.__REALTIME_TIMESTAMP.slice(-6));
  t.deepEqual(records.filter((r) => r.level === 'warning').map((r) => r.libvirt_source), ['qemu.qemu_domain', 'qemu.qemu_domain', 'conf.virdomainjob']);
});

test('journal entries: byte-array MESSAGE (valid and not UTF-8), null, repeated fields, non-objects', (t) => {
  const base = { __REALTIME_TIMESTAMP: '1714558563131245', PRIORITY: '3', LIBVIRT_SOURCE: 'util.error' };
  const valid = parseJournalEntry({ ...base, MESSAGE: [...Buffer.from('héllo\nwörld')] });
  t.is(valid.message, 'héllo\nwörld');
  t.false('invalid_utf8' in valid);
  const invalid = parseJournalEntry({ ...base, MESSAGE: [0x61, 0xff, 0x62] });
  t.like(invalid, { message: 'a\uFFFDb', invalid_utf8: true, level: 'error' });
  t.like(parseJournalEntry({ ...base, MESSAGE: null }), { message: '', kind: 'libvirt_log' });
  t.like(parseJournalEntry({ ...base, MESSAGE: ['one', 'two'], _PID: ['5', '6'] }), { message: 'one\ntwo' });
  t.like(parseJournalEntry({ MESSAGE: 'x', PRIORITY: 'bogus', __REALTIME_TIMESTAMP: 'soon' }), { level: 'unknown', time: null, kind: 'service_message' });
  t.like(parseJournalEntry([1, 2]), { kind: 'unparsed', message: '[1,2]' });
  t.like(parseJournalEntry('text'), { kind: 'unparsed', message: '"text"' });
});

// --- The Fluent Bit side: the rendered parser strings, tried in PARSER_CHAINS order, give what the TypeScript parsers give. ---

const RENDERED = new Map(FLUENT_BIT_PARSERS.map((s) => [s.name, { shape: s, regex: toJsRegExp(fromRendered(renderOnigmoRegex(s))) }]));

function fromRendered(text: string): { pattern: string; dotAll: boolean } {
  const m = /^\/(.*)\/(m?)$/s.exec(text)!;
  return { pattern: m[1]!.replace(/^\\A/, '^'), dotAll: m[2] === 'm' };
}

/** Record texts as Fluent Bit's multiline parser hands them to the parser filter. */
function fold(multilineName: string, lines: readonly string[]): string[] {
  const texts: string[] = [];
  const folder = new MultilineFolder(FLUENT_BIT_MULTILINE_PARSERS.find((m) => m.name === multilineName)!, (text) => texts.push(text), 1 << 20);
  for (const line of lines) folder.push(line, 0, null);
  folder.flush();
  return texts;
}

function epochOf(raw: string): number {
  return Date.parse(raw.includes('T') ? raw : raw.replace(' ', 'T').replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

/**
 * Tries `chain` on each text the way the parser filter does and compares the captures with the
 * TypeScript record. With `trailingNewline` the texts end in `\n`, as in_tail's multiline records
 * do when the multiline parser sets no Key_Content (flb_ml_flush_stream_group() breakline_prepare()).
 */
function assertSameAsRendered(
  t: import('ava').ExecutionContext,
  chain: readonly string[],
  texts: string[],
  records: LogRecord[],
  trailingNewline = false,
): Set<string> {
  const used = new Set<string>();
  t.is(records.length, texts.length);
  texts.forEach((folded, i) => {
    const record = records[i]!;
    const text = trailingNewline ? `${folded}\n` : folded;
    const name = chain.find((n) => RENDERED.get(n)!.regex.test(text));
    if (name === undefined) {
      t.like(record, { kind: 'unparsed', message: folded });
      return;
    }
    used.add(name);
    const { shape, regex } = RENDERED.get(name)!;
    t.is<string | undefined, string | undefined>(record.kind, shape.kind, text.slice(0, 80));
    const fields = record as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(regex.exec(text)!.groups!)) {
      if (value === undefined || value === '') {
        if (key !== 'message' && key !== 'time' && key !== 'level') t.false(key in fields, `${name}: empty ${key} left out`);
      } else if (key === 'time') {
        t.is(Date.parse(record.time!), epochOf(value), `${name}: time`);
      } else {
        const type = shape.types?.[key];
        t.deepEqual(fields[key], type === 'integer' ? Number(value) : value, `${name}: ${key}`);
      }
    }
  });
  return used;
}

test('rendered QEMU parsers, in chain order, match the records of the TypeScript QEMU parser', (t) => {
  const lines = [...QEMU_LOG_SAMPLES.flatMap(linesOf), ...Object.values(L)];
  const texts = fold(MULTILINE_NAMES.qemu, lines);
  const records = parseQemuLines(lines);
  const used = assertSameAsRendered(t, PARSER_CHAINS.qemu, texts, records);
  // The samples plus the synthetic lines exercise every parser of the chain.
  t.deepEqual([...used].sort(), [...PARSER_CHAINS.qemu].sort());
  assertSameAsRendered(t, PARSER_CHAINS.qemu, texts, records, true);
});

test('rendered libvirtd parser matches the records of the TypeScript libvirtd parser on the container lines', (t) => {
  const inner = readFileSync(CRI_SAMPLES[0]!, 'utf8').trimEnd().split('\n').map((l) => l.split(' ').slice(3).join(' '));
  const parser = createLibvirtdTextParser();
  const records = [...inner.flatMap((l) => parser.push(l)), ...parser.flush()];
  const texts = fold(MULTILINE_NAMES.libvirtd, inner);
  const used = assertSameAsRendered(t, PARSER_CHAINS.libvirtd, texts, records);
  t.deepEqual([...used], PARSER_CHAINS.libvirtd);
  assertSameAsRendered(t, PARSER_CHAINS.libvirtd, texts, records, true);
});
