// What the sidecar asks of every input (QEMU log directory, libvirtd's CRI log, the journal): start,
// stop, and whether it is there. Each source reads, parses with the shared parsers and puts batches
// with their checkpoint marks into the queue; checkpoints move only when the sink confirmed.
export interface InputState {
  readonly up: boolean;
  /** Why the input is not up (null when it is). */
  readonly reason: string | null;
}

export interface Source {
  start(): Promise<void>;
  /** Stops reading; what was read but not confirmed is read again on the next start. */
  stop(): Promise<void>;
  state(): InputState;
}
