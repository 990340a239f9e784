// `libvirt-telemetry sidecar`: its options (one definition for parsing, --help and docs/cli.md)
// and the process around the Sidecar: signals, exit codes.
import { DEFAULT_PORTS, SIDECAR_PATHS } from '../runtime/role-defaults.js';
import { resolve } from 'node:path';
import { optionalLibvirtUriOption } from '../libvirt/uri-option.js';
import { DEFAULT_MAX_LINE_BYTES } from '../parsers/lines.js';
import { QEMU_MULTILINE } from '../parsers/shapes.js';
import { UsageError, type CommandSpec, type OptionValues } from '../runtime/options.js';
import { parseListenAddress } from '../runtime/listen-address.js';
import { LOG_OPTIONS, loggerFrom, webListenAddressOption } from '../runtime/shared-options.js';
import { stopSignal } from '../runtime/signals.js';
import type { SidecarConfig } from './sidecar.js';

const options = [
  { name: 'qemu.log-dir', deprecatedNames: ['qemu-log-dir'], type: 'path', default: SIDECAR_PATHS.qemuLogDir, description: "directory of the per-domain QEMU logs; '' to not read them" },
  { name: 'qemu.log-glob', deprecatedNames: ['qemu-log-glob'], type: 'string', default: '*.log', description: 'file names to follow in --qemu.log-dir (rotated copies are found by rotation, never by this glob)' },
  { name: 'libvirtd.source', deprecatedNames: ['libvirtd-source'], type: 'enum', choices: ['journal', 'cri', 'none'], default: 'journal', description: "where libvirtd's own log comes from: the systemd journal (host model), its container's CRI log file (container model), or nowhere" },
  { name: 'libvirtd.cri-log', deprecatedNames: ['cri-log'], deprecatedEnv: ['LIBVIRT_TELEMETRY_SIDECAR_CRI_LOG'], type: 'path', description: "libvirtd's container log file (CRI format; globs allowed in any path element, e.g. the pod directory); required with --libvirtd.source cri" },
  { name: 'journal.match', deprecatedNames: ['journal-match'], type: 'list', default: ['_SYSTEMD_UNIT=libvirtd.service'], description: "journalctl matches (FIELD=value; same field ORed, different fields ANDed, '+' between alternatives)" },
  { name: 'journal.directory', deprecatedNames: ['journal-directory'], type: 'path', description: 'read the journal files in this directory (a mounted host journal) instead of the local journal' },
  { name: 'journal.file', deprecatedNames: ['journal-file'], type: 'list', description: 'read these journal files (globs allowed, as journalctl --file)' },
  { name: 'journal.namespace', deprecatedNames: ['journal-namespace'], type: 'string', description: 'read this journal namespace (journalctl --namespace)' },
  { name: 'journalctl', type: 'path', default: 'journalctl', description: 'the journalctl binary' },
  { name: 'journal.fallback-age', deprecatedNames: ['journal-fallback-age'], type: 'duration', default: '7h', description: 'how far back to read the journal when there is no usable cursor (first start with --read-from head, a cursor from another boot or a vanished journal, a malformed cursor)', min: 1000 },
  { name: 'read-from', type: 'enum', choices: ['head', 'tail'], default: 'head', description: 'where inputs that exist at the very first start begin (journal: head = the fallback age window); files appearing later are always read from their head' },
  optionalLibvirtUriOption(
    "libvirtd to ask, read-only, for what the logs do not say (docs/records.md#identity): the uuid of a domain named before its log's command line was read, Nova's instance name and project; none by default",
  ),
  { name: 'state-dir', type: 'path', default: SIDECAR_PATHS.stateDir, description: 'directory of the checkpoints (file positions, journal cursor); one sidecar per directory' },
  { name: 'output', type: 'enum', choices: ['stdout', 'file', 'forward'], default: 'stdout', description: 'where records go: JSON lines on stdout, JSON lines appended to --output.file, or Fluent Forward to --forward.host' },
  { name: 'output.file', deprecatedNames: ['output-file'], type: 'path', description: 'the file for --output file' },
  { name: 'forward.host', deprecatedNames: ['forward-host'], type: 'string', description: 'Fluent Bit in_forward / Fluentd host for --output forward' },
  { name: 'forward.port', deprecatedNames: ['forward-port'], type: 'port', default: 24224, description: 'its port' },
  { name: 'forward.tls', deprecatedNames: ['forward-tls'], type: 'boolean', description: 'connect with TLS' },
  { name: 'forward.tls-ca-file', deprecatedNames: ['forward-tls-ca'], deprecatedEnv: ['LIBVIRT_TELEMETRY_SIDECAR_FORWARD_TLS_CA'], type: 'path', description: 'CA bundle to verify the server (default: the system CAs)' },
  { name: 'forward.tls-cert-file', deprecatedNames: ['forward-tls-cert'], deprecatedEnv: ['LIBVIRT_TELEMETRY_SIDECAR_FORWARD_TLS_CERT'], type: 'path', description: 'client certificate' },
  { name: 'forward.tls-key-file', deprecatedNames: ['forward-tls-key'], deprecatedEnv: ['LIBVIRT_TELEMETRY_SIDECAR_FORWARD_TLS_KEY'], type: 'path', description: 'client key' },
  { name: 'forward.tls-verify', deprecatedNames: ['forward-tls-verify'], type: 'boolean', default: true, description: "verify the server's certificate and name" },
  { name: 'forward.tls-server-name', deprecatedNames: ['forward-tls-server-name'], type: 'string', description: 'name expected in the server certificate (default: --forward.host)' },
  { name: 'forward.shared-key', deprecatedNames: ['forward-shared-key'], type: 'string', description: 'shared key of the secure-forward handshake (HELO/PING/PONG); prefer the environment variable' },
  { name: 'forward.self-hostname', deprecatedNames: ['forward-self-hostname'], type: 'string', description: 'hostname sent in the handshake (default: this host)' },
  { name: 'forward.username', deprecatedNames: ['forward-username'], type: 'string', description: 'user for the handshake when the server requires user authentication' },
  { name: 'forward.password', deprecatedNames: ['forward-password'], type: 'string', description: 'its password; prefer the environment variable' },
  { name: 'forward.ack-timeout', deprecatedNames: ['forward-ack-timeout'], type: 'duration', default: '30s', description: 'how long to wait for an ack before the chunk is sent again on a new connection', min: 100 },
  { name: 'tag-prefix', type: 'string', default: 'libvirt', description: 'Forward tags are <prefix>.qemu.<domain> and <prefix>.libvirtd' },
  { name: 'queue-limit', type: 'bytes', default: '4MiB', description: 'encoded records held in memory between reading and the output; reading pauses when full', min: 65536 },
  { name: 'max-line-bytes', type: 'bytes', default: `${DEFAULT_MAX_LINE_BYTES / 1024}KiB`, description: 'longer lines keep their first bytes up to this limit (record marked truncated, counted) and the rest is skipped', min: 1024, max: 64 * 1024 * 1024 },
  { name: 'rescan-interval', type: 'duration', default: '5s', description: 'safety-net rescan of the log directories (inotify finds new files at once)', min: 100 },
  { name: 'rotate-wait', type: 'duration', default: '5s', description: 'how long a rotated or deleted file is watched for late writes when no new file has data yet', min: 0 },
  { name: 'multiline-flush', type: 'duration', default: `${QEMU_MULTILINE.flushTimeoutMs}ms`, description: "idle time after which a record the parser holds for continuation lines is emitted (Fluent Bit's Flush_Timeout of the same multiline shape)", min: 10 },
  { name: 'checkpoint-interval', type: 'duration', default: '5s', description: 'how often the checkpoint snapshot is rewritten (every confirmation is appended to the WAL at once)', min: 100 },
  { name: 'shutdown-timeout', type: 'duration', default: '10s', description: 'on SIGTERM/SIGINT: time to deliver what is queued before exiting anyway', min: 0 },
  { ...webListenAddressOption(`:${DEFAULT_PORTS.sidecar}`, "address of /metrics and /healthz ('' for none)"), deprecatedEnv: ['LIBVIRT_TELEMETRY_SIDECAR_LISTEN_ADDRESS'] },
  ...LOG_OPTIONS,
] as const;

type Options = OptionValues<typeof options>;

/** Turns validated options into the sidecar's configuration; bad combinations are usage errors. */
export function configFrom(o: Options): SidecarConfig {
  if (o['libvirtd.source'] === 'cri' && !o['libvirtd.cri-log']) throw new UsageError('--libvirtd.source cri needs --libvirtd.cri-log');
  if (o.output === 'file' && !o['output.file']) throw new UsageError('--output file needs --output.file');
  if (o.output === 'forward' && !o['forward.host']) throw new UsageError('--output forward needs --forward.host');
  if (o['forward.password'] && !o['forward.username']) throw new UsageError('--forward.password needs --forward.username');
  if ((o['forward.tls-cert-file'] === undefined) !== (o['forward.tls-key-file'] === undefined))
    throw new UsageError('--forward.tls-cert-file and --forward.tls-key-file go together');
  for (const m of o['journal.match'])
    if (m !== '+' && !/^[A-Z0-9_]+=/.test(m)) throw new UsageError(`--journal.match: '${m}' is not FIELD=value or '+'`);
  const listenText = o['web.listen-address'];
  const listen = listenText === '' ? null : parseListenAddress(listenText);
  if (listen === undefined) throw new UsageError(`--web.listen-address: expected host:port or :port, got '${listenText}'`);
  return {
    qemuLogDir: o['qemu.log-dir'] === '' ? null : resolve(o['qemu.log-dir']),
    qemuLogGlob: o['qemu.log-glob'],
    libvirtdSource: o['libvirtd.source'] as SidecarConfig['libvirtdSource'],
    criLog: o['libvirtd.cri-log'] && resolve(o['libvirtd.cri-log']),
    journal: {
      journalctl: o.journalctl,
      matches: o['journal.match'],
      directory: o['journal.directory'],
      files: o['journal.file'],
      namespace: o['journal.namespace'],
      fallbackAgeMs: o['journal.fallback-age'],
    },
    startAt: o['read-from'] as 'head' | 'tail',
    libvirtUri: o['libvirt.uri'],
    stateDir: resolve(o['state-dir']),
    output: o.output as SidecarConfig['output'],
    outputFile: o['output.file'] && resolve(o['output.file']),
    forward: o['forward.host']
      ? {
          host: o['forward.host'],
          port: o['forward.port'],
          ackTimeoutMs: o['forward.ack-timeout'],
          tls: o['forward.tls'],
          tlsCa: o['forward.tls-ca-file'],
          tlsCert: o['forward.tls-cert-file'],
          tlsKey: o['forward.tls-key-file'],
          tlsVerify: o['forward.tls-verify'],
          tlsServerName: o['forward.tls-server-name'],
          sharedKey: o['forward.shared-key'],
          selfHostname: o['forward.self-hostname'],
          username: o['forward.username'],
          password: o['forward.password'],
        }
      : undefined,
    tagPrefix: o['tag-prefix'],
    queueLimitBytes: o['queue-limit'],
    maxLineBytes: o['max-line-bytes'],
    rescanMs: o['rescan-interval'],
    rotateWaitMs: o['rotate-wait'],
    flushIdleMs: o['multiline-flush'],
    checkpointIntervalMs: o['checkpoint-interval'],
    shutdownTimeoutMs: o['shutdown-timeout'],
    listen,
  };
}

async function run(o: Options): Promise<number> {
  const config = configFrom(o);
  // Listening before the slow start (module loading, opening sources): a signal that arrives during start-up
  // stops the sidecar right after it, still with exit code 0.
  const stopping = stopSignal();
  // The pipeline loads only when the sidecar runs, not with every CLI command.
  const [{ Sidecar }, heap] = await Promise.all([import('./sidecar.js'), import('../runtime/heap.js')]);
  heap.keepYoungGenerationSmall();
  heap.collectOldGenerationEarly();
  const log = loggerFrom(o);
  const sidecar = await Sidecar.start(config, log);
  log.info(
    `following ${[config.qemuLogDir && `${config.qemuLogDir}/${config.qemuLogGlob}`, config.libvirtdSource !== 'none' && `libvirtd via ${config.libvirtdSource}`].filter(Boolean).join(' and ')} -> ${config.output}` +
      (sidecar.port !== undefined ? `; /metrics on port ${sidecar.port}` : ''),
  );
  const signal = await Promise.race([stopping, sidecar.done.then(() => null)]);
  if (signal) log.info(`${signal}: stopping reading, draining the queue`);
  const drained = await sidecar.stop();
  // A write stuck in a stalled pipe would keep the process alive: the deadline is the deadline.
  if (!drained) setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  if (sidecar.error) throw sidecar.error;
  return 0;
}

export const sidecarCommand: CommandSpec<typeof options> = {
  name: 'sidecar',
  summary: "follow libvirtd's journal and the QEMU domain logs, emit structured records",
  description:
    'Reads the per-domain QEMU logs (following virtlogd rotation) and libvirtd\'s journal or container log, parses them into records, and delivers them at least once to stdout, a file, or Fluent Forward. Checkpoints in --state-dir advance only after the output confirmed.',
  options,
  run: (o) => run(o),
};
