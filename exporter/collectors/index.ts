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
import { SampleRun, writeFamilies, type ContentType, type Family, type TextSink } from '../exposition.js';
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

/**
 * The last scrape's families and sample run, kept alive until the next scrape (runtime/heap.ts says why),
 * each let go of what it read once written: the objects that give the scrape's code its shapes stay, its data
 * does not.
 */
const lastScrape = new HeldUntilNext<{ families: readonly Family[]; run: SampleRun }>();

/** Writes the exposition of one snapshot in the negotiated format to `sink`, a run of samples at a time. */
export async function writeSnapshot(snapshot: Snapshot, contentType: ContentType, sink: TextSink): Promise<void> {
  const families = COLLECTORS.flatMap((collect) => collect(snapshot));
  const run = new SampleRun();
  try {
    await writeFamilies(families, contentType, sink, run);
  } finally {
    for (const family of families) family.release?.();
    run.release();
    lastScrape.hold({ families, run });
  }
}

/** The exposition text of one snapshot, as one string. */
export async function renderSnapshot(snapshot: Snapshot, contentType: ContentType): Promise<string> {
  const parts: string[] = [];
  await writeSnapshot(snapshot, contentType, (text) => void parts.push(text));
  return parts.join('');
}
