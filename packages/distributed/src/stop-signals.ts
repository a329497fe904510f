/**
 * Graceful stop for worker processes: the first SIGINT (Ctrl-C) or SIGTERM resolves the promise
 * (the caller closes the worker, which finishes running jobs); a second one quits at once (exit
 * 130), leaving a running job to return to the queue when its lock expires. The listeners stay
 * installed (`on`, not `once`): a process with a single remaining listener is what other modules
 * (ir's temporary-file cleanup) take as "nobody handles this signal" and re-raise it, which would
 * kill the worker mid-job on the first Ctrl-C.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function untilStopSignal(log: (line: string) => void = () => {}): Promise<NodeJS.Signals> {
  return new Promise((resolveStop) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: quitting now (a running job goes back to the queue when its lock expires)`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: finishing running jobs (again to quit now: a running job then goes back to the queue when its lock expires)`);
      resolveStop(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
}
