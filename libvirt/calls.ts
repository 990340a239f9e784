// The typed calls: each procedure this client calls (reference §5.2) as its argument encoder and reply
// decoder over structs.ts and xdr.ts, and the LibvirtClient methods, each one encode-call-decode on the RPC
// core (rpc.ts). Each decoder consumes the whole payload: trailing bytes mean a layout mismatch (ProtocolError).
import type net from 'node:net';
import { DOMAIN_EVENT_KINDS, DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, type DomainEventKind, Limits, RemoteProc, nameOf } from './protocol.js';
import { type CallSpec, RpcConnection, type RpcLimits } from './rpc.js';
import { readDomainStats, readTypedParamValue, streamDomainStats, TYPED_PARAM_MIN_BYTES, TYPED_PARAM_NAME_MAX } from './domain-stats.js';
import { DOMAIN_MIN_BYTES, readDomain, uuidToBytes, writeDomain } from './structs.js';
import type {
  CallOptions,
  DomainCpuTotals,
  DomainInfo,
  DomainRef,
  DomainStateInfo,
  DomainStatsRecord,
  GetAllDomainStatsOptions,
  LibvirtClient,
  RegisterEventOptions,
  VcpuInfo,
} from './types.js';
import type { XdrReader, XdrWriter } from './xdr.js';
import type { BodyDecoder } from './xdr-stream.js';

/** How long close() waits for CONNECT_CLOSE's reply before cutting the socket. */
const CLOSE_TIMEOUT_MS = 2000;

function spec<A, R>(
  proc: number,
  name: string,
  encode: ((w: XdrWriter, args: A) => void) | undefined,
  decode: (r: XdrReader) => R,
  stream?: (payloadBytes: number, what: string) => BodyDecoder<R>,
): CallSpec<A, R> {
  return {
    proc,
    name,
    encode,
    decode: (r) => {
      const value = decode(r);
      r.end(name);
      return value;
    },
    decodeStream: stream && ((payloadBytes) => stream(payloadBytes, name)),
  };
}

const nothing = (): void => undefined;
const versionNumber = (r: XdrReader): number => Number(r.uhyper('version'));

export const Calls = {
  connectOpen: spec(RemoteProc.CONNECT_OPEN, 'CONNECT_OPEN', (w, a: { name: string; flags: number }) => {
    w.optional(a.name, (x, name) => x.string(name, Limits.STRING_MAX));
    w.uint(a.flags);
  }, nothing),
  connectClose: spec<void, void>(RemoteProc.CONNECT_CLOSE, 'CONNECT_CLOSE', undefined, nothing),
  authList: spec<void, number[]>(RemoteProc.AUTH_LIST, 'AUTH_LIST', undefined, (r) =>
    r.array(Limits.AUTH_TYPE_LIST_MAX, 4, (x) => x.int('auth type'), 'auth types')),
  authPolkit: spec<void, boolean>(RemoteProc.AUTH_POLKIT, 'AUTH_POLKIT', undefined, (r) => r.int('complete') !== 0),
  supportsFeature: spec(RemoteProc.CONNECT_SUPPORTS_FEATURE, 'CONNECT_SUPPORTS_FEATURE', (w, feature: number) => {
    w.int(feature);
  }, (r) => r.int('supported') !== 0),
  getLibVersion: spec<void, number>(RemoteProc.CONNECT_GET_LIB_VERSION, 'CONNECT_GET_LIB_VERSION', undefined, versionNumber),
  getVersion: spec<void, number>(RemoteProc.CONNECT_GET_VERSION, 'CONNECT_GET_VERSION', undefined, versionNumber),
  getHostname: spec<void, string>(RemoteProc.CONNECT_GET_HOSTNAME, 'CONNECT_GET_HOSTNAME', undefined, (r) =>
    r.string(Limits.STRING_MAX, 'hostname')),
  listAllDomains: spec(RemoteProc.CONNECT_LIST_ALL_DOMAINS, 'CONNECT_LIST_ALL_DOMAINS', (w, flags: number) => {
    w.int(1); // need_results
    w.uint(flags);
  }, (r): DomainRef[] => {
    const domains = r.array(Limits.DOMAIN_LIST_MAX, DOMAIN_MIN_BYTES, readDomain, 'domains');
    r.uint('ret');
    return domains;
  }),
  getAllDomainStats: spec(
    RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS,
    'CONNECT_GET_ALL_DOMAIN_STATS',
    (w, a: { domains: readonly DomainRef[]; stats: number; flags: number }) => {
      w.array(a.domains, Limits.DOMAIN_LIST_MAX, writeDomain);
      w.uint(a.stats);
      w.uint(a.flags >>> 0);
    },
    readDomainStats,
    streamDomainStats, // the one reply that can be tens of MiB: decoded as it arrives, never held whole
  ),
  domainGetInfo: spec(RemoteProc.DOMAIN_GET_INFO, 'DOMAIN_GET_INFO', writeDomain, (r): DomainInfo => ({
    state: r.uint('state'),
    maxMemoryKiB: r.uhyper('maxMem'),
    memoryKiB: r.uhyper('memory'),
    vcpus: r.uint('nrVirtCpu'),
    cpuTimeNs: r.uhyper('cpuTime'),
  })),
  domainGetState: spec(RemoteProc.DOMAIN_GET_STATE, 'DOMAIN_GET_STATE', (w, dom: DomainRef) => {
    writeDomain(w, dom);
    w.uint(0); // flags: must be 0
  }, (r) => ({ state: r.int('state'), reason: r.int('reason') })),
  domainGetCpuTotals: spec(RemoteProc.DOMAIN_GET_CPU_STATS, 'DOMAIN_GET_CPU_STATS', (w, dom: DomainRef) => {
    writeDomain(w, dom);
    w.uint(CPU_TOTALS.size); // nparams: as many as we read
    w.int(-1); // start_cpu −1: the whole domain…
    w.uint(1); // …which is one "CPU"
    w.uint(0); // flags
  }, (r): DomainCpuTotals => {
    const totals: { -readonly [K in keyof DomainCpuTotals]: number } = {};
    const n = r.count(Limits.CPU_STATS_PARAMS_MAX, TYPED_PARAM_MIN_BYTES, 'cpu stats params');
    for (let i = 0; i < n; i++) {
      const name = r.string(TYPED_PARAM_NAME_MAX, 'typed param name');
      const value = readTypedParamValue(r, r.int('typed param type'), name);
      const field = CPU_TOTALS.get(name);
      if (field !== undefined && typeof value === 'number') totals[field] = value;
    }
    r.int('nparams');
    return totals;
  }),
  domainGetVcpus: spec(RemoteProc.DOMAIN_GET_VCPUS, 'DOMAIN_GET_VCPUS', (w, a: { domain: DomainRef; maxInfo: number }) => {
    writeDomain(w, a.domain);
    w.int(a.maxInfo);
    w.int(0); // maplen: no CPU maps
  }, (r): VcpuInfo[] => {
    const info = r.array(Limits.VCPUINFO_MAX, VCPU_INFO_BYTES, readVcpuInfo, 'vcpu info');
    r.opaqueFixed(r.count(Limits.CPUMAPS_MAX, 1, 'cpumaps'), 'cpumaps');
    return info;
  }),
  domainGetXmlDesc: spec(RemoteProc.DOMAIN_GET_XML_DESC, 'DOMAIN_GET_XML_DESC', writeXmlDescArgs, (r) => r.string(Limits.STRING_MAX, 'xml')),
  domainLookupByName: spec(RemoteProc.DOMAIN_LOOKUP_BY_NAME, 'DOMAIN_LOOKUP_BY_NAME', (w, name: string) => {
    w.string(name, Limits.STRING_MAX);
  }, readDomain),
  domainLookupByUuid: spec(RemoteProc.DOMAIN_LOOKUP_BY_UUID, 'DOMAIN_LOOKUP_BY_UUID', (w, uuid: string) => {
    w.opaqueFixed(uuidToBytes(uuid), Limits.UUID_BYTES);
  }, readDomain),
  registerEvent: spec(
    RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
    'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY',
    (w, a: { eventId: number; domain: DomainRef | undefined }) => {
      w.int(a.eventId);
      w.optional(a.domain, writeDomain);
    },
    (r) => r.int('callbackID'),
  ),
  deregisterEvent: spec(
    RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
    'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY',
    (w, callbackId: number) => {
      w.int(callbackId);
    },
    nothing,
  ),
} as const;

/** DOMAIN_GET_CPU_STATS's parameters of the whole domain (virDomainGetCPUStats) and where DomainCpuTotals keeps them. */
const CPU_TOTALS = new Map<string, keyof DomainCpuTotals>([
  ['cpu_time', 'cpuTimeNs'],
  ['user_time', 'userTimeNs'],
  ['system_time', 'systemTimeNs'],
]);

/** remote_vcpu_info: number, state, cpu_time (hyper), cpu. */
const VCPU_INFO_BYTES = 20;

function readVcpuInfo(r: XdrReader): VcpuInfo {
  return { number: r.uint('vcpu number'), state: r.int('vcpu state'), cpuTimeNs: r.uhyperAsNumber('vcpu cpu_time'), cpu: r.int('vcpu cpu') };
}

function writeXmlDescArgs(w: XdrWriter, a: { domain: DomainRef; flags: number }): void {
  writeDomain(w, a.domain);
  w.uint(a.flags);
}

/** DOMAIN_GET_XML_DESC whose reply becomes a string only when its bytes contain `needle` (else undefined). */
function xmlDescContaining(needle: string): CallSpec<{ domain: DomainRef; flags: number }, string | undefined> {
  const bytes = Buffer.from(needle);
  return spec(RemoteProc.DOMAIN_GET_XML_DESC, 'DOMAIN_GET_XML_DESC', writeXmlDescArgs, (r) => r.stringContaining(Limits.STRING_MAX, bytes, 'xml'));
}

/** A connection to one daemon with its typed calls; made by connect() (client.ts). */
export class RemoteClient extends RpcConnection implements LibvirtClient {
  constructor(
    readonly uri: string,
    readonly readOnly: boolean,
    socket: net.Socket,
    limits?: RpcLimits,
  ) {
    super(socket, limits);
  }

  /** The domainGetXmlDescContaining call of each needle asked for so far. */
  private readonly xmlDescSpecs = new Map<string, ReturnType<typeof xmlDescContaining>>();

  getLibVersion(options?: CallOptions): Promise<number> {
    return this.call(Calls.getLibVersion, undefined, options);
  }

  getVersion(options?: CallOptions): Promise<number> {
    return this.call(Calls.getVersion, undefined, options);
  }

  getHostname(options?: CallOptions): Promise<string> {
    return this.call(Calls.getHostname, undefined, options);
  }

  supportsFeature(feature: number, options?: CallOptions): Promise<boolean> {
    return this.call(Calls.supportsFeature, feature, options);
  }

  listAllDomains(flags = 0, options?: CallOptions): Promise<DomainRef[]> {
    return this.call(Calls.listAllDomains, flags, options);
  }

  getAllDomainStats(options: GetAllDomainStatsOptions = {}): Promise<DomainStatsRecord[]> {
    const { stats = 0, flags = 0, domains = [] } = options;
    return this.call(Calls.getAllDomainStats, { domains, stats, flags }, options);
  }

  domainGetInfo(domain: DomainRef, options?: CallOptions): Promise<DomainInfo> {
    return this.call(Calls.domainGetInfo, domain, options);
  }

  domainGetCpuTotals(domain: DomainRef, options?: CallOptions): Promise<DomainCpuTotals> {
    return this.call(Calls.domainGetCpuTotals, domain, options);
  }

  domainGetVcpus(domain: DomainRef, maxInfo: number, options?: CallOptions): Promise<VcpuInfo[]> {
    return this.call(Calls.domainGetVcpus, { domain, maxInfo }, options);
  }

  async domainGetState(domain: DomainRef, options?: CallOptions): Promise<DomainStateInfo> {
    const { state, reason } = await this.call(Calls.domainGetState, domain, options);
    return {
      state,
      stateName: nameOf(DOMAIN_STATE_NAMES, state),
      reason,
      reasonName: nameOf(DOMAIN_STATE_REASON_NAMES[state], reason),
    };
  }

  domainGetXmlDesc(domain: DomainRef, flags = 0, options?: CallOptions): Promise<string> {
    return this.call(Calls.domainGetXmlDesc, { domain, flags }, options);
  }

  domainGetXmlDescContaining(domain: DomainRef, needle: string, flags = 0, options?: CallOptions): Promise<string | undefined> {
    let call = this.xmlDescSpecs.get(needle);
    if (!call) this.xmlDescSpecs.set(needle, (call = xmlDescContaining(needle)));
    return this.call(call, { domain, flags }, options);
  }

  domainLookupByName(name: string, options?: CallOptions): Promise<DomainRef> {
    return this.call(Calls.domainLookupByName, name, options);
  }

  domainLookupByUuid(uuid: string, options?: CallOptions): Promise<DomainRef> {
    return this.call(Calls.domainLookupByUuid, uuid, options);
  }

  registerDomainEvent(kind: DomainEventKind, options: RegisterEventOptions = {}): Promise<number> {
    const spec = DOMAIN_EVENT_KINDS[kind];
    if (!spec) return Promise.reject(new TypeError(`unknown domain event kind '${String(kind)}'`));
    return this.call(Calls.registerEvent, { eventId: spec.eventId, domain: options.domain }, options);
  }

  deregisterDomainEvent(callbackId: number, options?: CallOptions): Promise<void> {
    return this.call(Calls.deregisterEvent, callbackId, options);
  }

  /** CONNECT_CLOSE, then the socket; pending calls reject with ConnectionClosedError('client'). Idempotent. */
  close(): Promise<void> {
    return this.closeAfter(() => this.call(Calls.connectClose, undefined, { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }));
  }
}
