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
import { ScrapeSamples, type ContentType, type TextSink } from '../exposition.js';
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

/** The last scrape's snapshot and samples, kept alive until the next scrape (runtime/heap.ts says why). */
const lastScrape = new HeldUntilNext<{ snapshot: Snapshot; samples: ScrapeSamples }>();

/** Writes the exposition of one snapshot in the negotiated format to `sink`, a run of samples at a time. */
export async function writeSnapshot(snapshot: Snapshot, contentType: ContentType, sink: TextSink): Promise<void> {
  const samples = new ScrapeSamples();
  for (const collect of COLLECTORS) collect(snapshot, samples);
  lastScrape.hold({ snapshot, samples });
  await samples.writeTo(contentType, sink);
}

/** The exposition text of one snapshot, as one string. */
export async function renderSnapshot(snapshot: Snapshot, contentType: ContentType): Promise<string> {
  const parts: string[] = [];
  await writeSnapshot(snapshot, contentType, (text) => void parts.push(text));
  return parts.join('');
}
