// Option sets the generator tests render: both models, every output, and the defaults.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCommandLine } from '../../../runtime/options.js';
import { generateCommand } from '../../../generator/command.js';
import { generateFiles } from '../../../generator/generate.js';
import { REPO_ROOT } from '../repo.js';

export const GOLDEN_DIR = path.join(REPO_ROOT, 'test', 'golden');

export interface Variant {
  readonly name: string;
  readonly argv: readonly string[];
  /** Compared with test/golden/<name>/. */
  readonly golden: boolean;
}

export const VARIANTS: readonly Variant[] = [
  {
    name: 'host',
    golden: true,
    argv: [
      '--model', 'host',
      '--output', 'forward,loki,opensearch,stdout',
      '--forward.host', 'fluentd.logging.svc', '--forward.tls', '--forward.tls-ca-file', '/etc/fluent-bit/aggregator-ca.crt', '--forward.shared-key', '${FORWARD_SHARED_KEY}', '--forward.self-hostname', '${NODE_NAME}',
      '--loki.host', 'loki.logging.svc', '--loki.tenant', 'hypervisors',
      '--opensearch.host', 'opensearch.logging.svc', '--opensearch.tls', '--opensearch.user', 'fluent-bit', '--opensearch.password', '${OPENSEARCH_PASSWORD}',
      '--sidecar.shared-key', '${SIDECAR_SHARED_KEY}',
    ],
  },
  /** The Fluent Bit-only QEMU path: Fluent Bit tails and parses the QEMU logs itself. */
  { name: 'host-qemu-tail', golden: true, argv: ['--model', 'host', '--qemu-logs', 'on'] },
  { name: 'container', golden: true, argv: ['--model', 'container', '--output', 'loki', '--loki.host', 'loki.logging.svc'] },
  { name: 'container-qemu-tail', golden: false, argv: ['--model', 'container', '--qemu-logs', 'on'] },
  { name: 'host-defaults', golden: false, argv: [] },
  { name: 'container-defaults', golden: false, argv: ['--model', 'container'] },
  { name: 'host-journal-path', golden: false, argv: ['--journal.directory', '/run/host/journal', '--journal.unit', 'libvirtd.service,virtqemud.service', '--qemu-logs', 'off'] },
];

/** Renders a variant (both formats) with an empty environment. */
export function renderVariant(variant: Variant): Map<string, string> {
  const { options } = parseCommandLine(generateCommand, [...variant.argv, '--format', 'both'], {});
  return generateFiles(options).files;
}

/** Renders a variant into a fresh temporary directory and returns it. */
export function writeVariant(variant: Variant): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lt-gen-${variant.name}-`));
  for (const [name, content] of renderVariant(variant)) writeFileSync(path.join(dir, name), content);
  return dir;
}
