// The parsers as rendered: regexes and multiline rules are read back out of the generated files,
// compiled in JS with Onigmo's semantics, and run over the samples in test/fixtures/ the way the generated
// pipeline runs them in Fluent Bit (tail + multiline.parser + parser filter; cri + multiline filter
// + parser filter). Every sample line must come out with its documented fields and time, and with
// the same fields the TypeScript parsers (`parse`) give the same file.
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LOG_FORMATS } from '../../parsers/formats.js';
import type { LogRecord } from '../../parsers/record.js';
import { FILE_NAMES } from '../../generator/files.js';
import { QEMU_LOG_PATH_KEY } from '../../generator/model.js';
import { readClassic, readYaml, type NormalConfig, type Props } from '../harness/readers/fluent-bit-config.js';
import { onigmoToJs, runMultiline, runParserChain, type Parsed } from '../harness/checks/fluent-bit-emulation.js';
import { VARIANTS, writeVariant } from '../harness/inputs/generator-variants.js';
import { CRI_SAMPLES as CONTAINER_SAMPLES, QEMU_LOG_SAMPLES as QEMU_SAMPLES } from '../harness/inputs/samples.js';

function lines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return text.slice(0, text.endsWith('\n') ? -1 : undefined).split('\n');
}

/** Both renderings of a variant, read back. */
function configs(name: string): [string, NormalConfig][] {
  const dir = writeVariant(VARIANTS.find((v) => v.name === name)!);
  return [
    ['classic', readClassic(path.join(dir, FILE_NAMES.classic.main))],
    ['yaml', readYaml(path.join(dir, FILE_NAMES.yaml.main))],
  ];
}

const first = (p: Props, key: string) => p[key]?.[0];

/** Runs a multiline parser of the config: in_tail feeds plain text, the multiline filter a record key. */
function multiline(config: NormalConfig, name: string, texts: readonly string[], plainText: boolean): string[] {
  const m = config.multilineParsers.find((x) => first(x.props, 'name') === name);
  if (!m) throw new Error(`multiline parser ${name} not in the config`);
  return runMultiline(m.rules, texts, { plainText, keyContent: m.props['key_content'] !== undefined });
}

/** The parser filter on `log` for records of a tag pattern. */
function logParserChain(config: NormalConfig, match: string): string[] {
  const f = config.filters.find((x) => first(x, 'name') === 'parser' && first(x, 'match') === match && first(x, 'key_name') === 'log');
  if (!f) throw new Error(`no parser filter on log for ${match}`);
  return f['parser']!;
}

/** Expected record time from the timestamp text, computed without strptime: epoch ns. */
function expectedNs(text: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|\+0000)$/.exec(text);
  if (!m) throw new Error(`unexpected time text ${text}`);
  return BigInt(Date.parse(`${m[1]}T${m[2]}Z`)) * 1_000_000n + BigInt(((m[3] ?? '') + '000000000').slice(0, 9));
}

/** A leading timestamp of a record text, as libvirt or QEMU writes it. */
function leadingTime(text: string): string | undefined {
  return /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\+0000|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)(?=[: ])/.exec(text)?.[1];
}

/** The TypeScript parser's records for a file, for the cross-check. */
function tsRecords(format: 'qemu' | 'cri', file: string): LogRecord[] {
  const parser = LOG_FORMATS[format].create({ domain: null });
  return [...lines(file).flatMap((l) => [...parser.push(l)]), ...parser.flush()];
}

/** The fields a Fluent Bit record and a `parse` record share: everything the regex captured. */
function captured(p: Parsed): Record<string, unknown> {
  const { time: _, ...rest } = p.fields;
  return rest;
}

function sameFieldsAsTs(p: Parsed, ts: LogRecord): Record<string, unknown> {
  const tsFields = ts as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.keys(captured(p)).map((k) => [k, tsFields[k]]));
}

interface QemuRecord {
  file: string;
  text: string;
  parsed: Parsed | undefined;
}

function runQemu(config: NormalConfig): QemuRecord[] {
  const tail = config.inputs.find((i) => first(i, 'name') === 'tail' && first(i, 'path')?.includes('qemu'))!;
  const chain = logParserChain(config, `${first(tail, 'tag')!.split('.<')[0]}.*`);
  return QEMU_SAMPLES.flatMap((file) =>
    multiline(config, first(tail, 'multiline.parser')!, lines(file), true).map((text) => ({ file, text, parsed: runParserChain(config.parsers, chain, text) })),
  );
}

for (const [format, config] of configs('host-qemu-tail')) {
  test(`${format}: every QEMU sample record is parsed, with its time`, (t) => {
    const records = runQemu(config);
    t.true(records.length > 60, `only ${records.length} records`);
    for (const r of records) {
      t.false(r.text.endsWith('\n'), 'no newline appended by the multiline flush (key_content is set)');
      t.truthy(r.parsed, `unparsed: ${r.text.slice(0, 120)}`);
      const time = leadingTime(r.text);
      if (time === undefined) {
        t.is(r.parsed?.timeNs, undefined, `no timestamp in: ${r.text.slice(0, 80)}`);
        continue;
      }
      t.is(r.parsed?.timeNs, expectedNs(time), `time of: ${r.text.slice(0, 80)}`);
      t.false('time' in (r.parsed?.fields ?? {}), 'Time_Keep Off: the time lives in the record timestamp');
    }
  });

  test(`${format}: QEMU sample records carry the same fields as \`parse\` gives`, (t) => {
    for (const file of QEMU_SAMPLES) {
      const fb = runQemu(config).filter((r) => r.file === file);
      const ts = tsRecords('qemu', file);
      t.is(fb.length, ts.length, `${path.basename(file)}: record count (multiline folding)`);
      fb.forEach((r, i) => {
        if (!r.parsed || !ts[i]) return;
        t.deepEqual(captured(r.parsed), sameFieldsAsTs(r.parsed, ts[i]!), `${path.basename(file)} record ${i}: ${r.text.slice(0, 60)}`);
        t.not(ts[i]!.kind, 'unparsed');
      });
    }
  });

  test(`${format}: documented QEMU fields`, (t) => {
    const records = runQemu(config);
    const find = (file: string, needle: string) => {
      const r = records.find((x) => path.basename(x.file) === file && x.text.includes(needle));
      if (!r?.parsed) throw new Error(`${file}: no parsed record with ${needle}`);
      return r.parsed;
    };
    const header = find('instance-00000a1b.log', 'starting up');
    t.is(header.parser, 'libvirt_qemu_start');
    t.like(header.fields, {
      libvirt_version: '10.7.0',
      libvirt_package: '10.7.0-1 (Debian)',
      qemu_version: '9.0.2',
      qemu_package: 'Debian 1:9.0.2+ds-4',
      kernel: '6.6.47-cloud-amd64',
      hostname: 'hv-node-01',
    });
    const realHeader = find('qemu-tiny.log', 'starting up');
    t.like(realHeader.fields, { libvirt_version: '9.0.0', libvirt_package: '9.0.0-4+deb12u2 (Debian)', qemu_version: '7.2.22', qemu_package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' });

    const commandLine = find('instance-00000a1b.log', 'LC_ALL=C');
    t.is(commandLine.parser, 'libvirt_qemu_command_line');
    t.is(commandLine.fields['binary'], '/usr/bin/qemu-system-x86_64');
    t.regex(String(commandLine.fields['message']), /^LC_ALL=C \\\n[\s\S]*\n-msg timestamp=on$/);

    t.like(find('instance-00000a1b.log', 'char device').fields, { pty: '/dev/pts/1', label: 'charserial0' });
    t.like(find('instance-00000a1b.log', 'terminating on signal').fields, {
      program: 'qemu-system-x86_64',
      signal: 15,
      sender_pid: 1462,
      sender_process: '/usr/sbin/libvirtd',
    });
    t.like(find('instance-00000b2c.log', '<unknown process>').fields, { signal: 15, sender_pid: 90211, sender_process: '<unknown process>' });
    t.like(find('instance-00000b2c.log', 'is tainted').fields, { domain_id: 3, taint: 'custom-monitor' });
    t.like(find('instance-00000d4e.log', 'is tainted').fields, { domain_id: 6, taint: 'host-cpu' });
    for (const [file, reason] of [['instance-00000a1b.log', 'shutdown'], ['instance-00000b2c.log', 'crashed'], ['instance-00000c3d.log', 'failed'], ['instance-00000c3d.log', 'migrated'], ['instance-00000d4e.log', 'destroyed']] as const) {
      t.like(find(file, `reason=${reason}`), { parser: 'libvirt_qemu_shutdown', fields: { reason } });
    }
    t.like(find('instance-00000c3d.log', 'initiating migration').fields, { phase: 'initiating' });
    t.like(find('instance-00000e5f.log', ': panic ').fields, { panic_info: "hyper-v: arg1='0xd1', arg2='0x0', arg3='0x2', arg4='0x0', arg5='0xfffff8054a1c2b31'" });
    t.like(find('instance-00000c3d.log', 'CPUID.07H:EBX.hle').fields, {
      program: 'qemu-system-x86_64',
      level: 'warning',
      message: "host doesn't support requested feature: CPUID.07H:EBX.hle [bit 4]",
    });
    const error = find('instance-00000c3d.log', 'load of migration failed');
    t.is(error.parser, 'libvirt_qemu_message');
    t.false('level' in error.fields, 'error_report() prints no level word');
  });

  test(`${format}: the QEMU log path names the domain in the tag and stays in the record, with no second parser pass`, (t) => {
    const tail = config.inputs.find((i) => first(i, 'tag')?.includes('<domain>'))!;
    const domainOf = (p: string) => onigmoToJs(first(tail, 'tag_regex')!).exec(p)?.groups;
    t.deepEqual(domainOf('/var/log/libvirt/qemu/instance-00000a1b.log'), { domain: 'instance-00000a1b' });
    t.deepEqual(domainOf('/var/log/libvirt/qemu/instance-00000a1b.log.0'), { domain: 'instance-00000a1b' }, 'read after a virtlogd rotation');
    t.is(domainOf('/var/log/libvirt/qemu/notes.txt'), undefined);
    t.deepEqual(domainOf('/mnt/qemu-logs/vm.with.dots.log'), { domain: 'vm.with.dots' });
    t.is(first(tail, 'path_key'), QEMU_LOG_PATH_KEY, 'the record keeps the path, so a store can tell the domain without the tag');
    t.false(config.filters.some((f) => first(f, 'key_name') === QEMU_LOG_PATH_KEY), 'no parser pass over the path');
    t.is(config.filters.filter((f) => first(f, 'name') === 'parser').length, 1, 'one parser filter for the QEMU records');
  });
}

/** Fluent Bit's built-in `cri` multiline parser: `P` records are joined until the `F` record. */
function criRecords(file: string): { time: string; log: string }[] {
  const out: { time: string; log: string }[] = [];
  let partial = '';
  for (const line of lines(file)) {
    const m = /^(?<time>.+?) (?<stream>stdout|stderr) (?<p>F|P) (?<log>.*)$/.exec(line)!;
    partial += m.groups!['log'];
    if (m.groups!['p'] === 'F') {
      out.push({ time: m.groups!['time']!, log: partial });
      partial = '';
    }
  }
  return out;
}

for (const [format, config] of configs('container')) {
  test(`${format}: container sample lines are joined and parsed into libvirtd fields`, (t) => {
    const join = config.filters.find((f) => first(f, 'name') === 'multiline')!;
    const chain = logParserChain(config, 'kube.*');
    for (const file of CONTAINER_SAMPLES) {
      const texts = multiline(config, first(join, 'multiline.parser')!, criRecords(file).map((r) => r.log), false);
      const parsed = texts.map((text) => ({ text, parsed: runParserChain(config.parsers, chain, text) }));
      t.deepEqual(parsed.filter((p) => !p.parsed).map((p) => p.text), ['+ exec /usr/sbin/libvirtd'], 'only the wrapper script line is foreign');
      for (const p of parsed.filter((x) => x.parsed)) t.is(p.parsed!.timeNs, expectedNs(leadingTime(p.text)!), p.text.slice(0, 60));

      const version = parsed.find((p) => p.text.includes('libvirt version'))!.parsed!;
      t.like(version.fields, { thread: 2204, level: 'info', message: 'libvirt version: 10.7.0, package: 10.7.0-1 (Debian)' });
      t.false('function' in version.fields, 'the init lines have no function part');
      const monitor = parsed.find((p) => p.text.includes('unexpectedly closed the monitor'))!.parsed!;
      t.like(monitor.fields, { thread: 2204, level: 'error', function: 'qemuProcessReportLogError', line: 1933 });
      t.is(String(monitor.fields['message']).split('\n').length, 4, 'the QEMU lines quoted in the error are joined into its message');
      t.like(parsed.find((p) => p.text.includes('End of file while reading'))!.parsed!.fields, { thread: 7, level: 'error', function: 'virNetSocketReadWire', line: 1781 });

      const ts = tsRecords('cri', file);
      t.is(texts.length, ts.length, 'record count (continuation joining)');
      parsed.forEach((p, i) => {
        if (p.parsed) t.deepEqual(captured(p.parsed), sameFieldsAsTs(p.parsed, ts[i]!), p.text.slice(0, 60));
      });
    }
  });
}
