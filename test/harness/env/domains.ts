// Tiny QEMU domains for tests: a no-OS one (fast, for stats and lifecycle) and one booting the
// tiny Linux guest (reboot, watchdog, ENOSPC and panic events). Both use software emulation
// (type='qemu', cpu qemu64), a virtio disk, an ethernet NIC (a host tap, so net stats exist), a pty
// serial console logged to a file, an i6300esb watchdog, pvpanic, and vdb on the 1 MiB tmpfs.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { guestArtefacts } from '../../env/guest.js';
import { HOST_PATHS, URIS, paths } from '../../env/layout.js';
import { processRef, runCommand, waitFor, type ProcessRef } from '../../env/proc.js';
import { virsh } from './testenv.js';

/** What ava's `t` offers for cleanup (kept structural so helpers need no ava import). */
export interface Teardown {
  teardown(fn: () => Promise<void> | void): void;
}

export interface TinyDomainOptions {
  memoryMiB?: number;
  vcpus?: number;
  /** `<interface type='ethernet'>`: libvirt creates a tap vnetN, and net.* stats appear. Default true. */
  nic?: boolean;
  /** vdb: a sparse 4 MiB raw file on the 1 MiB tmpfs, error_policy='stop'. Default true. */
  enospcDisk?: boolean;
  /** `<watchdog model='i6300esb' action=…>`. Default 'reset'. */
  watchdogAction?: 'reset' | 'shutdown' | 'poweroff' | 'pause' | 'none' | 'dump' | 'inject-nmi';
  /** `<on_crash>` (what a guest panic reported through pvpanic leads to). Default 'destroy'. */
  onCrash?: 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart';
  /** Balloon statistics period in seconds (0 = off). Default 1: the guest's memory stats refresh. */
  balloonPeriod?: number;
  /** XML elements for the domain's `<metadata>` (e.g. Nova's instance metadata). */
  metadata?: string;
  /** Register the domain's removal with the test's teardown (pass ava's `t`). */
  cleanup?: Teardown;
}

export interface TinyDomain {
  name: string;
  /** The URI it was defined through (the QEMU driver over TCP). */
  uri: string;
  xml: string;
  /** vda: a 16 MiB qcow2 image. */
  disk: string;
  /** vdb's backing file on the ENOSPC tmpfs, when enabled. */
  enospcFile: string | undefined;
  /** The serial console log (truncated on every start: append='off'). */
  consoleLog: string;
  /** /var/log/libvirt/qemu/<name>.log */
  qemuLog: string;
  linux: boolean;
}

/** A unique domain name for one test: `lt-<label>-<random>`, so tests never collide. */
export function testDomainName(label: string): string {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 32);
  return `lt-${slug}-${randomBytes(3).toString('hex')}`;
}

const xmlText = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');

function linuxBootXml(): string {
  const guest = guestArtefacts();
  return `<kernel>${xmlText(guest.kernel)}</kernel>
    <initrd>${xmlText(guest.initrd)}</initrd>
    <cmdline>${xmlText(guest.cmdline)}</cmdline>`;
}

function domainXml(domain: Omit<TinyDomain, 'xml'>, options: TinyDomainOptions): string {
  const os = domain.linux ? linuxBootXml() : `<boot dev='hd'/>`;
  const enospcDisk = domain.enospcFile
    ? `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' error_policy='stop' rerror_policy='stop'/>
      <source file='${xmlText(domain.enospcFile)}'/>
      <target dev='vdb' bus='virtio'/>
    </disk>`
    : '';
  const nic =
    options.nic === false
      ? ''
      : `
    <interface type='ethernet'>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>`;
  const balloonPeriod = options.balloonPeriod ?? 1;
  return `<domain type='qemu'>
  <name>${xmlText(domain.name)}</name>${options.metadata ? `
  <metadata>
    ${options.metadata}
  </metadata>` : ''}
  <memory unit='MiB'>${options.memoryMiB ?? 128}</memory>
  <vcpu>${options.vcpus ?? 1}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    ${os}
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>${options.onCrash ?? 'destroy'}</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${xmlText(domain.disk)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>${enospcDisk}${nic}
    <serial type='pty'>
      <log file='${xmlText(domain.consoleLog)}' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <watchdog model='i6300esb' action='${options.watchdogAction ?? 'reset'}'/>
    <memballoon model='virtio'>${balloonPeriod > 0 ? `<stats period='${balloonPeriod}'/>` : ''}</memballoon>
    <panic model='isa'/>
  </devices>
</domain>
`;
}

async function defineDomain(name: string, linux: boolean, options: TinyDomainOptions): Promise<TinyDomain> {
  const directory = path.join(paths.domains, name);
  mkdirSync(directory, { recursive: true });
  const base = {
    name,
    uri: URIS.qemuTcp,
    disk: path.join(directory, 'vda.qcow2'),
    enospcFile: options.enospcDisk === false ? undefined : path.join(paths.enospc, `${name}-vdb.raw`),
    consoleLog: path.join(directory, 'console.log'),
    qemuLog: path.join(HOST_PATHS.qemuLogDir, `${name}.log`),
    linux,
  };
  const domain: TinyDomain = { ...base, xml: domainXml(base, options) };
  options.cleanup?.teardown(() => removeDomain(domain));
  await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', domain.disk, '16M']);
  if (domain.enospcFile) {
    writeFileSync(domain.enospcFile, '');
    truncateSync(domain.enospcFile, 4 * 1024 * 1024);
  }
  const xmlFile = path.join(directory, 'domain.xml');
  writeFileSync(xmlFile, domain.xml);
  await virsh(['define', xmlFile]);
  return domain;
}

/** Defines (does not start) a domain without an OS: the BIOS finds nothing to boot and idles. */
export async function defineTinyDomain(name: string, options: TinyDomainOptions = {}): Promise<TinyDomain> {
  return await defineDomain(name, false, options);
}

/** Defines (does not start) a domain booting the tiny Linux guest; drive it with guestConsole(). */
export async function defineTinyLinuxDomain(name: string, options: TinyDomainOptions = {}): Promise<TinyDomain> {
  return await defineDomain(name, true, options);
}

/**
 * Destroys (if running) and undefines the domain and deletes its files. Safe to call twice, and
 * after the domain vanished by itself (e.g. on_crash=destroy of a transient one).
 */
export async function removeDomain(domain: Pick<TinyDomain, 'name' | 'uri' | 'enospcFile'>): Promise<void> {
  const ignoreMissing = (error: Error) => {
    if (!/not found|not running|no domain/i.test(error.message)) throw error;
  };
  await virsh(['destroy', domain.name], { uri: domain.uri }).catch(ignoreMissing);
  await virsh(['undefine', domain.name], { uri: domain.uri }).catch(ignoreMissing);
  rmSync(path.join(paths.domains, domain.name), { recursive: true, force: true });
  if (domain.enospcFile) rmSync(domain.enospcFile, { force: true });
}

/** The state word and reason of `virsh domstate --reason`, e.g. { state: 'paused', reason: 'I/O error' }. */
export async function domainState(name: string, uri: string = URIS.qemuTcp): Promise<{ state: string; reason: string }> {
  const text = (await virsh(['domstate', '--reason', name], { uri })).trim();
  const match = /^(.*?) \((.*)\)$/.exec(text);
  return match ? { state: match[1]!, reason: match[2]! } : { state: text, reason: '' };
}

/** Waits until `virsh domstate` says `state` (e.g. 'running', 'paused', 'shut off'). */
export async function waitForDomainState(name: string, state: string, timeoutMs = 90_000, uri: string = URIS.qemuTcp): Promise<{ state: string; reason: string }> {
  return await waitFor(`domain ${name} to be ${state}`, timeoutMs, async () => {
    const current = await domainState(name, uri).catch(() => undefined);
    return current?.state === state ? current : undefined;
  }, 200);
}

/** The QEMU process of a running domain (from libvirt's pid file, verified through /proc). */
export function qemuPid(name: string): ProcessRef {
  const file = `/run/libvirt/qemu/${name}.pid`;
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    throw new Error(`domain ${name} is not running (no ${file})`);
  }
  const ref = processRef(pid);
  if (!ref || !ref.comm.startsWith('qemu-system')) throw new Error(`pid ${pid} in ${file} is not a live QEMU process`);
  return ref;
}
