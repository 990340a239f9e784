// `libvirt-telemetry exporter`: the Prometheus exporter of libvirt domain statistics.
import { DEFAULT_PORTS } from '../runtime/role-defaults.js';
import { UsageError, type CommandSpec, type OptionValues } from '../runtime/options.js';
import { libvirtUriOption } from '../libvirt/uri-option.js';
import { parseListenAddress } from '../runtime/listen-address.js';
import type { Level, LogFormat } from '../runtime/log.js';
import { LOG_OPTIONS, webListenAddressOption } from '../runtime/shared-options.js';
import { Limits } from '../libvirt/protocol.js';
import type { WebConfig } from './web-config.js';

const options = [
  libvirtUriOption('libvirt daemon to read from (qemu:///system, qemu+tcp://HOST:16509/system, qemu+tls://HOST/system)'),
  { ...webListenAddressOption(`:${DEFAULT_PORTS.exporter}`, 'address to serve HTTP on, HOST:PORT (empty host = every interface)'), deprecatedEnv: ['LIBVIRT_TELEMETRY_EXPORTER_LISTEN_ADDRESS'] },
  {
    name: 'web.telemetry-path',
    type: 'string',
    default: '/metrics',
    deprecatedEnv: ['LIBVIRT_TELEMETRY_EXPORTER_TELEMETRY_PATH'],
    description: 'path under which the metrics are served',
  },
  {
    name: 'web.config.file',
    type: 'path',
    description: 'exporter-toolkit style web config (YAML) enabling TLS and/or basic auth',
  },
  {
    name: 'libvirt.timeout',
    type: 'duration',
    default: '5s',
    min: 1,
    description: 'deadline of each libvirt call (a locked domain costs at most this)',
  },
  {
    name: 'scrape.timeout',
    type: 'duration',
    default: '9s',
    min: 1,
    description: 'deadline of a whole collection; keep it below Prometheus\' scrape_timeout',
  },
  {
    name: 'libvirt.reconnect-max',
    deprecatedNames: ['libvirt.reconnect-max-backoff'],
    type: 'duration',
    default: '1s',
    min: 500,
    deprecatedEnv: ['LIBVIRT_TELEMETRY_EXPORTER_RECONNECT_MAX_BACKOFF'],
    description: 'longest wait between reconnection attempts (the wait doubles from 0.5s; kept short so libvirt_up turns 1 soon after libvirtd is back)',
  },
  {
    name: 'libvirt.max-frame',
    type: 'bytes',
    default: '32MiB',
    min: 64 * 1024,
    max: Limits.MESSAGE_MAX,
    description:
      'largest libvirt message accepted (header + payload; the protocol allows 32MiB); a larger one closes the connection, ' +
      'logged and counted, before any memory is taken for it. Peak memory stays within the idle footprint + 2x this',
  },
  {
    name: 'collector.openstack',
    type: 'boolean',
    default: true,
    description: 'export libvirt_domain_openstack_info from the Nova metadata in the domain XML (--no-collector.openstack disables)',
  },
  {
    name: 'collector.vcpu-scheduling',
    type: 'boolean',
    default: false,
    description:
      'export libvirt_domain_vcpu_wait_seconds_total and libvirt_domain_vcpu_delay_seconds_total (the guest\'s steal time). ' +
      'libvirt gives them only with its vcpu stats group, which costs two more QEMU monitor commands per running domain and scrape',
  },
  {
    name: 'openstack.metadata-ttl',
    type: 'duration',
    default: '10m',
    min: 0,
    deprecatedEnv: ['LIBVIRT_TELEMETRY_EXPORTER_METADATA_TTL'],
    description: 'how long a domain\'s Nova metadata is cached (it is also re-read when the domain restarts)',
  },
  ...LOG_OPTIONS,
] as const;

type ExporterOptions = OptionValues<typeof options>;

const NO_WEB_CONFIG: WebConfig = { users: new Map(), headers: {} };

/** Checks everything a user can get wrong before anything starts; throws UsageError (exit 2). */
async function validate(o: ExporterOptions) {
  const listen = parseListenAddress(o['web.listen-address']);
  if (!listen) throw new UsageError(`--web.listen-address: expected HOST:PORT such as :9177 or 127.0.0.1:9177, got '${o['web.listen-address']}'`);
  const path = o['web.telemetry-path'];
  if (!path.startsWith('/') || /[\s?#]/.test(path) || path === '/healthz') {
    throw new UsageError(`--web.telemetry-path: must be an absolute URL path other than /healthz, got '${path}'`);
  }
  let web = NO_WEB_CONFIG;
  if (o['web.config.file']) {
    // Loaded only when used: the YAML parser costs memory every other exporter would carry for nothing.
    const { loadWebConfig, WebConfigError } = await import('./web-config.js');
    try {
      web = loadWebConfig(o['web.config.file']);
    } catch (err) {
      if (err instanceof WebConfigError) throw new UsageError(`--web.config.file: ${err.message}`);
      throw err;
    }
  }
  return { listen, web };
}

async function run(o: ExporterOptions): Promise<number> {
  const { listen, web } = await validate(o);
  // The exporter itself is loaded only now: the other commands of the CLI do not carry it.
  const { runExporter } = await import('./exporter.js');
  return await runExporter({
    uri: o['libvirt.uri'],
    listen,
    listenText: o['web.listen-address'],
    telemetryPath: o['web.telemetry-path'],
    web,
    callTimeoutMs: o['libvirt.timeout'],
    scrapeTimeoutMs: o['scrape.timeout'],
    reconnectMaxBackoffMs: o['libvirt.reconnect-max'],
    maxMessageBytes: o['libvirt.max-frame'],
    openstack: o['collector.openstack'],
    vcpuScheduling: o['collector.vcpu-scheduling'],
    metadataTtlMs: o['openstack.metadata-ttl'],
    logLevel: o['log.level'] as Level,
    logFormat: o['log.format'] as LogFormat,
  });
}

export const exporterCommand: CommandSpec<typeof options> = {
  name: 'exporter',
  summary: 'Prometheus exporter of libvirt domain statistics (port 9177)',
  description:
    'Serves per-domain metrics read from libvirtd over one persistent read-only connection: GetAllDomainStats ' +
    'per scrape (one bulk call, or 4 in parallel when libvirtd is slow per domain), a deadline on every call, ' +
    'libvirt_up 0 while libvirtd is unreachable.',
  options,
  run: (o) => run(o),
};
