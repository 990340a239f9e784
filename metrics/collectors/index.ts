// Every collector, in the order their metrics appear in the output.
import { collectBlock } from './block.js';
import { collectCpu } from './cpu.js';
import { collectExporter } from './exporter.js';
import { collectMemory } from './memory.js';
import { collectNet } from './net.js';
import { collectOpenstack } from './openstack.js';
import { collectState } from './state.js';
import type { Collector } from './types.js';
import { collectVcpu } from './vcpu.js';
import { RegistryWriter, type ContentType } from '../exposition.js';
import type { Snapshot } from '../snapshot.js';
import { HeldUntilNext } from '../../runtime/heap.js';

export const COLLECTORS: readonly Collector[] = [
  collectExporter,
  collectState,
  collectCpu,
  collectVcpu,
  collectMemory,
  collectBlock,
  collectNet,
  collectOpenstack,
];

/** The last scrape's snapshot and registry, kept alive until the next scrape (runtime/heap.ts says why). */
const lastScrape = new HeldUntilNext<{ snapshot: Snapshot; writer: RegistryWriter }>();

/** The exposition text of one snapshot, in the negotiated format. */
export async function renderSnapshot(snapshot: Snapshot, contentType: ContentType): Promise<string> {
  const writer = new RegistryWriter(contentType);
  for (const collect of COLLECTORS) collect(snapshot, writer);
  const text = await writer.render();
  lastScrape.hold({ snapshot, writer });
  return text;
}
