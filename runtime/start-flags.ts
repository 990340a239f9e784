// A command's Node.js flags from start-up, although every role starts the same way (one image, one entrypoint,
// the role as its first argument). Some V8 flags do all they should only on node's command line: V8 applies
// what a flag implies at start-up only, and whatever ran before a run-time setting (Node.js's own bootstrap,
// the CLI's modules) was compiled without it. Node.js 22.15, 23.11 and later (the image's Node.js 24) can
// replace the running program in place (process.execve: the same pid and stdio, nothing of the first start
// left resident), so the CLI restarts itself once with the flags in front. On older releases it runs on, and
// the role sets what it can at run time (runtime/heap.ts).

type Execve = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => never;

/** Replaces this process with itself started with `flags`, unless it was started with all of them or the runtime cannot. */
export function restartWithNodeFlags(flags: readonly string[]): void {
  if (flags.every((flag) => process.execArgv.includes(flag))) return;
  const execve = (process as { execve?: Execve }).execve;
  if (typeof execve !== 'function') return;
  execve.call(process, process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
