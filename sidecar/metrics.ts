// The sidecar's self-metrics, one registry per sidecar instance.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

const P = 'libvirt_telemetry_sidecar_';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: P });
  const m = {
    registry,
    linesRead: new Counter({ name: `${P}lines_read_total`, help: 'Lines read from inputs (journal entries count as lines).', labelNames: ['source'], registers: [registry] }),
    bytesRead: new Counter({ name: `${P}bytes_read_total`, help: 'Bytes read from inputs.', labelNames: ['source'], registers: [registry] }),
    records: new Counter({ name: `${P}records_total`, help: 'Records the output confirmed, by record kind.', labelNames: ['source', 'kind'], registers: [registry] }),
    unparsed: new Counter({ name: `${P}unparsed_lines_total`, help: 'Records of kind unparsed the output confirmed (input matching no known shape, kept raw).', labelNames: ['source'], registers: [registry] }),
    drops: new Counter({ name: `${P}dropped_total`, help: 'Input the sidecar could not deliver, by reason (see docs/sidecar.md: every drop is counted here and logged).', labelNames: ['reason'], registers: [registry] }),
    rotationOverruns: new Counter({ name: `${P}rotation_overruns_total`, help: 'Times a followed file was rotated past the last backup before its successor was opened: whole rotated files in between may have been lost unseen.', labelNames: ['source'], registers: [registry] }),
    truncations: new Counter({ name: `${P}truncated_lines_total`, help: 'Lines longer than --max-line-bytes, cut to that length.', labelNames: ['source'], registers: [registry] }),
    truncatedBytes: new Counter({ name: `${P}truncated_bytes_total`, help: 'Bytes skipped from lines longer than --max-line-bytes.', labelNames: ['source'], registers: [registry] }),
    invalidUtf8: new Counter({ name: `${P}invalid_utf8_lines_total`, help: 'Lines that were not valid UTF-8 (invalid bytes replaced by U+FFFD).', labelNames: ['source'], registers: [registry] }),
    inputUp: new Gauge({ name: `${P}input_up`, help: 'Whether a configured input is there (1) or missing (0: directory absent or unreadable, no file matching the CRI log path, journalctl restarting); see /healthz for why.', labelNames: ['source', 'input'], registers: [registry] }),
    filesWatched: new Gauge({ name: `${P}files_watched`, help: 'Files open for reading (followed and draining).', labelNames: ['source'], registers: [registry] }),
    fileErrors: new Counter({ name: `${P}file_errors_total`, help: 'Paths that matched but could not be read, by reason (not_regular, permission_denied, io_error).', labelNames: ['reason'], registers: [registry] }),
    rotations: new Counter({ name: `${P}rotations_total`, help: 'Detected rotations: rename (new file at the path), truncate (copytruncate or truncation), delete (file removed while open).', labelNames: ['type'], registers: [registry] }),
    journalctlRestarts: new Counter({ name: `${P}journalctl_restarts_total`, help: 'Times journalctl exited and was started again.', registers: [registry] }),
    cursorResets: new Counter({ name: `${P}cursor_resets_total`, help: 'Stored journal cursors that could not be used, by reason (malformed, other_boot, vanished); reading fell back to --journal-fallback-age.', labelNames: ['reason'], registers: [registry] }),
    identityLookups: new Counter({ name: `${P}identity_lookups_total`, help: 'Questions to libvirtd (--libvirt.uri) about a domain\'s identity, by result (found, unknown: no such domain, error: no answer).', labelNames: ['result'], registers: [registry] }),
    pendingAcks: new Gauge({ name: `${P}pending_acks`, help: 'Forward chunks sent and not yet acknowledged.', registers: [registry] }),
    queueBytes: new Gauge({ name: `${P}queue_bytes`, help: 'Input bytes held in the queue and in flight to the output.', registers: [registry] }),
    queueLimit: new Gauge({ name: `${P}queue_limit_bytes`, help: 'The --queue-limit.', registers: [registry] }),
    lag: new Gauge({ name: `${P}lag_seconds`, help: 'Age of the oldest record read but not yet confirmed by the output (0 when none is pending).', registers: [registry] }),
    outputErrors: new Counter({ name: `${P}output_errors_total`, help: 'Failed output attempts, retried with backoff.', labelNames: ['output'], registers: [registry] }),
    walBadLines: new Counter({ name: `${P}checkpoint_wal_bad_lines_total`, help: 'Lines of state.wal that were no checkpoint entry (torn or edited), skipped when the state was loaded.', registers: [registry] }),
    checkpointWrites: new Counter({ name: `${P}checkpoint_snapshots_total`, help: 'State snapshots written.', registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
