// Every metric the exporter serves: name, type, labels and HELP, defined once. The collectors fill them,
// docs/exporter.md documents them (a unit test keeps the two in step).

export type MetricType = 'gauge' | 'counter';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
  /** Part of the design document's table (the rest are the extra metrics). */
  readonly core?: boolean;
}

const DOMAIN = ['domain', 'uuid'] as const;
const VCPU = ['domain', 'uuid', 'vcpu'] as const;
const DEVICE = ['domain', 'uuid', 'device'] as const;
const INTERFACE = ['domain', 'uuid', 'interface'] as const;

function def(name: string, type: MetricType, labels: readonly string[], help: string, core = false): MetricDef {
  return { name, type, labels, help, ...(core ? { core } : {}) };
}

export const Metrics = {
  // The design document's table.
  infoVcpus: def('libvirt_domain_info_vcpus', 'gauge', DOMAIN, 'Number of assigned (online) vCPUs (vcpu.current).', true),
  infoMemory: def('libvirt_domain_info_memory_bytes', 'gauge', DOMAIN, 'Assigned memory, the maximum the guest can have (balloon.maximum).', true),
  vcpuTime: def('libvirt_domain_vcpu_time_seconds_total', 'counter', VCPU, 'CPU time consumed by the vCPU thread (vcpu.<n>.time).', true),
  memoryUsage: def(
    'libvirt_domain_memory_usage_bytes',
    'gauge',
    DOMAIN,
    'Memory in use by the guest: balloon.available minus balloon.usable, as reported by the guest balloon driver (MemTotal minus MemAvailable in a Linux guest). Absent when the guest reports no balloon stats.',
    true,
  ),
  blockReadBytes: def('libvirt_domain_block_read_bytes_total', 'counter', DEVICE, 'Bytes read from the disk (block.<n>.rd.bytes).', true),
  blockWriteBytes: def('libvirt_domain_block_write_bytes_total', 'counter', DEVICE, 'Bytes written to the disk (block.<n>.wr.bytes).', true),
  blockReadRequests: def('libvirt_domain_block_read_requests_total', 'counter', DEVICE, 'Read requests on the disk (block.<n>.rd.reqs).', true),
  blockWriteRequests: def('libvirt_domain_block_write_requests_total', 'counter', DEVICE, 'Write requests on the disk (block.<n>.wr.reqs).', true),
  netReceiveBytes: def('libvirt_domain_net_receive_bytes_total', 'counter', INTERFACE, 'Bytes received by the guest on the interface (net.<n>.rx.bytes).', true),
  netTransmitBytes: def('libvirt_domain_net_transmit_bytes_total', 'counter', INTERFACE, 'Bytes sent by the guest on the interface (net.<n>.tx.bytes).', true),
  netReceivePackets: def('libvirt_domain_net_receive_packets_total', 'counter', INTERFACE, 'Packets received by the guest on the interface (net.<n>.rx.pkts).', true),
  netTransmitPackets: def('libvirt_domain_net_transmit_packets_total', 'counter', INTERFACE, 'Packets sent by the guest on the interface (net.<n>.tx.pkts).', true),
  netReceiveErrors: def('libvirt_domain_net_receive_errors_total', 'counter', INTERFACE, 'Receive errors on the interface (net.<n>.rx.errs).', true),
  netTransmitDrops: def('libvirt_domain_net_transmit_drops_total', 'counter', INTERFACE, 'Transmitted packets dropped on the interface (net.<n>.tx.drop).', true),
  up: def('libvirt_up', 'gauge', [], 'Whether libvirtd answered during this scrape (1) or not (0).', true),

  // Extra metrics.
  domains: def('libvirt_domains', 'gauge', [], 'Number of domains libvirtd reported, active and inactive.'),
  state: def(
    'libvirt_domain_state',
    'gauge',
    ['domain', 'uuid', 'state', 'reason'],
    'Current domain state and its reason (state.state, state.reason as libvirt names them); always 1.',
  ),
  cpuTime: def('libvirt_domain_cpu_time_seconds_total', 'counter', DOMAIN, 'Total CPU time of the domain, all threads (cpu.time).'),
  cpuUser: def('libvirt_domain_cpu_user_seconds_total', 'counter', DOMAIN, 'User-mode CPU time of the domain (cpu.user).'),
  cpuSystem: def('libvirt_domain_cpu_system_seconds_total', 'counter', DOMAIN, 'Kernel-mode CPU time of the domain (cpu.system).'),
  vcpuWait: def('libvirt_domain_vcpu_wait_seconds_total', 'counter', VCPU, 'Time the vCPU thread was runnable but waiting for a host CPU (vcpu.<n>.wait).'),
  vcpuDelay: def(
    'libvirt_domain_vcpu_delay_seconds_total',
    'counter',
    VCPU,
    'Time the vCPU spent queued by the host scheduler instead of running, the guest\'s steal time (vcpu.<n>.delay).',
  ),
  balloonCurrent: def('libvirt_domain_balloon_current_bytes', 'gauge', DOMAIN, 'Current balloon size, the memory the guest has now (balloon.current).'),
  balloonRss: def('libvirt_domain_balloon_rss_bytes', 'gauge', DOMAIN, 'Resident set size of the QEMU process on the host (balloon.rss).'),
  balloonAvailable: def('libvirt_domain_balloon_available_bytes', 'gauge', DOMAIN, 'Memory the guest sees as total (balloon.available).'),
  balloonUnused: def('libvirt_domain_balloon_unused_bytes', 'gauge', DOMAIN, 'Memory left completely unused by the guest (balloon.unused).'),
  balloonUsable: def('libvirt_domain_balloon_usable_bytes', 'gauge', DOMAIN, 'Memory the guest could use without swapping (balloon.usable).'),
  balloonDiskCaches: def('libvirt_domain_balloon_disk_caches_bytes', 'gauge', DOMAIN, 'Guest memory holding disk caches, reclaimable without I/O (balloon.disk_caches).'),
  balloonSwapIn: def('libvirt_domain_balloon_swap_in_bytes_total', 'counter', DOMAIN, 'Data the guest swapped in (balloon.swap_in).'),
  balloonSwapOut: def('libvirt_domain_balloon_swap_out_bytes_total', 'counter', DOMAIN, 'Data the guest swapped out (balloon.swap_out).'),
  balloonMajorFaults: def('libvirt_domain_balloon_major_faults_total', 'counter', DOMAIN, 'Major page faults in the guest (balloon.major_fault).'),
  balloonMinorFaults: def('libvirt_domain_balloon_minor_faults_total', 'counter', DOMAIN, 'Minor page faults in the guest (balloon.minor_fault).'),
  balloonHugetlbAllocations: def('libvirt_domain_balloon_hugetlb_allocations_total', 'counter', DOMAIN, 'Successful huge page allocations in the guest (balloon.hugetlb_pgalloc).'),
  balloonHugetlbFailures: def('libvirt_domain_balloon_hugetlb_allocation_failures_total', 'counter', DOMAIN, 'Failed huge page allocations in the guest (balloon.hugetlb_pgfail).'),
  balloonLastUpdate: def('libvirt_domain_balloon_last_update_timestamp_seconds', 'gauge', DOMAIN, 'When the guest last updated its balloon stats, Unix time (balloon.last-update).'),
  blockReadTime: def('libvirt_domain_block_read_time_seconds_total', 'counter', DEVICE, 'Time spent on reads from the disk (block.<n>.rd.times).'),
  blockWriteTime: def('libvirt_domain_block_write_time_seconds_total', 'counter', DEVICE, 'Time spent on writes to the disk (block.<n>.wr.times).'),
  blockFlushTime: def('libvirt_domain_block_flush_time_seconds_total', 'counter', DEVICE, 'Time spent on flushes of the disk (block.<n>.fl.times).'),
  blockFlushRequests: def('libvirt_domain_block_flush_requests_total', 'counter', DEVICE, 'Flush requests on the disk (block.<n>.fl.reqs).'),
  netReceiveDrops: def('libvirt_domain_net_receive_drops_total', 'counter', INTERFACE, 'Received packets dropped on the interface (net.<n>.rx.drop).'),
  netTransmitErrors: def('libvirt_domain_net_transmit_errors_total', 'counter', INTERFACE, 'Transmit errors on the interface (net.<n>.tx.errs).'),
  openstackInfo: def(
    'libvirt_domain_openstack_info',
    'gauge',
    ['domain', 'uuid', 'instance_name', 'flavor', 'project_id', 'project_name', 'user_id', 'user_name'],
    'OpenStack Nova metadata of the domain (http://openstack.org/xmlns/libvirt/nova/1.1 in the domain XML); always 1. Join on uuid.',
  ),

  // The exporter's own health.
  scrapeDuration: def('libvirt_exporter_scrape_duration_seconds', 'gauge', [], 'Wall time of the last collection from libvirtd.'),
  lastScrapeSuccess: def(
    'libvirt_exporter_last_scrape_success',
    'gauge',
    [],
    'Whether the last collection got the stats of every domain (1) or failed or returned partial results (0).',
  ),
  domainErrors: def('libvirt_exporter_domain_errors_total', 'counter', DOMAIN, 'libvirt calls about this domain that failed.'),
  domainTimeouts: def('libvirt_exporter_domain_timeouts_total', 'counter', DOMAIN, 'libvirt calls about this domain that missed their deadline (for example a locked QEMU).'),
  domainStatsMissing: def(
    'libvirt_exporter_domain_stats_missing',
    'gauge',
    DOMAIN,
    'Present (1) for each domain whose stats are missing from this scrape: its call failed or timed out, or an earlier call is still stuck on it in libvirtd (a hung QEMU), so only what libvirtd knows without asking QEMU is exported.',
  ),
  collectionErrors: def(
    'libvirt_exporter_collection_errors_total',
    'counter',
    [],
    'Collections that ended early because of a failure not about one domain: libvirtd unreachable, the connection lost, the listing refused.',
  ),
  rejectedMessages: def(
    'libvirt_exporter_rejected_messages_total',
    'counter',
    [],
    'libvirt messages refused for being larger than --libvirt.max-frame; each closed the connection.',
  ),
} as const satisfies Record<string, MetricDef>;

export const ALL_METRICS: readonly MetricDef[] = Object.values(Metrics);
