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
 * The last scrape's snapshot and samples, held until the next scrape replaces them. V8 frees a hidden class
 * once no object of it is left and discards all code optimized for it; nothing of a scrape would outlive it,
 * so each full collection between scrapes (one every few) threw away the optimized collectors, views and
 * prom-client's formatting, and the next scrape ran unoptimized while they were compiled again. Holding one
 * domain of the snapshot instead was not enough: the collectors still lost their optimized code.
 */
const lastScrape: { held?: { snapshot: Snapshot; samples: ScrapeSamples } } = {};

/** Writes the exposition of one snapshot in the negotiated format to `sink`, one metric family at a time. */
export async function writeSnapshot(snapshot: Snapshot, contentType: ContentType, sink: TextSink): Promise<void> {
  const samples = new ScrapeSamples();
  for (const collect of COLLECTORS) collect(snapshot, samples);
  lastScrape.held = { snapshot, samples };
  await samples.writeTo(contentType, sink);
}

/** The exposition text of one snapshot, as one string. */
export async function renderSnapshot(snapshot: Snapshot, contentType: ContentType): Promise<string> {
  const parts: string[] = [];
  await writeSnapshot(snapshot, contentType, (text) => void parts.push(text));
  return parts.join('');
}
