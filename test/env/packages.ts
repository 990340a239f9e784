// Debian packages the environment needs, installed only when missing.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './proc.js';
import { say } from './say.js';

export const REQUIRED_PACKAGES = [
  'libvirt-daemon',
  'libvirt-daemon-driver-qemu',
  'libvirt-clients',
  'qemu-system-x86',
  'qemu-utils',
  // systemd-journald and journalctl
  'systemd',
  // journal files written from export format (the sidecar's journal tests)
  'systemd-journal-remote',
] as const;

const APT_OPTIONS = ['-y', '-q', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends'];
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** The packages of `names` that are not installed. */
export async function missingPackages(names: readonly string[]): Promise<string[]> {
  // dpkg-query exits 1 when a name is unknown (never installed); its stdout still lists the others.
  const listed = await new Promise<string>((resolve) => {
    execFile('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\\n', ...names], (_error, stdout) => resolve(stdout));
  });
  const installed = new Set(
    listed
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, status]) => status?.startsWith('ii'))
      .map(([name]) => name),
  );
  return names.filter((name) => !installed.has(name));
}

let updated = false;

/** `apt-get update`, once per process. */
export async function aptUpdateOnce(): Promise<void> {
  if (updated) return;
  say('apt-get update');
  await runCommand('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=600'], { env: APT_ENV, timeoutMs: 600_000 });
  updated = true;
}

export async function ensurePackages(names: readonly string[] = REQUIRED_PACKAGES): Promise<void> {
  const missing = await missingPackages(names);
  if (missing.length === 0) return;
  await aptUpdateOnce();
  say(`apt-get install ${missing.join(' ')}`);
  await runCommand('apt-get', ['install', ...APT_OPTIONS, ...missing], { env: APT_ENV, timeoutMs: 1_200_000 });
}

/** Downloads a package's .deb (not installed) into `directory`; returns the file's path. */
export async function downloadPackage(name: string, directory: string): Promise<string> {
  const attempt = () => runCommand('apt-get', ['download', '-q', name], { env: APT_ENV, timeoutMs: 600_000, cwd: directory });
  try {
    await attempt();
  } catch {
    await aptUpdateOnce();
    await attempt();
  }
  const file = readdirSync(directory).find((entry) => entry.startsWith(`${name}_`) && entry.endsWith('.deb'));
  if (!file) throw new Error(`apt-get download ${name} left no .deb in ${directory}`);
  return path.join(directory, file);
}
