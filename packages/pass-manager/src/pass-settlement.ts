import { ModelpassError } from '@modelpass/ir';

/**
 * Waiting for a pass's result without waiting forever. A promise that nothing will ever settle
 * (a forgotten `resolve`, an await on a promise nobody keeps) would otherwise let the event loop
 * run dry: Node then exits with code 0, no output and no message. Node says when that happens
 * ('beforeExit'), so every pending pass is failed right there, naming the pass. An optional
 * timeout fails a pass that is merely slow or waits on something that stays alive.
 */

interface PendingPass {
  fail(error: ModelpassError): void;
}

const pending = new Set<PendingPass>();

function onBeforeExit(): void {
  for (const pass of [...pending]) {
    pass.fail(
      new ModelpassError({
        reason: 'the promise it returned never settles: the event loop emptied while it was pending, so nothing is left that could resolve it',
        source: '@modelpass/pass-manager',
        code: 'pass/never-settled',
        hint: 'the pass must resolve or reject the promise it returns (look for a missing resolve() or an await on a promise nobody settles)',
      }),
    );
  }
}

function track(pass: PendingPass): void {
  if (pending.size === 0) process.on('beforeExit', onBeforeExit);
  pending.add(pass);
}

function untrack(pass: PendingPass): void {
  pending.delete(pass);
  if (pending.size === 0) process.removeListener('beforeExit', onBeforeExit);
}

/**
 * `result` when it is not a promise; otherwise a promise of its value that rejects with a
 * ModelpassError when the event loop empties while it is pending, or after `timeoutMs`. The
 * caller wraps the error with the pass's and plugin's names.
 */
export function settlePassResult<T>(result: T | PromiseLike<T>, timeoutMs?: number): T | Promise<T> {
  if (!isThenable(result)) return result;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const pass: PendingPass = {
      fail(error) {
        finish();
        reject(error);
      },
    };
    const finish = (): void => {
      untrack(pass);
      if (timer !== undefined) clearTimeout(timer);
    };
    track(pass);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        pass.fail(
          new ModelpassError({
            reason: `it did not finish within ${timeoutMs} ms`,
            source: '@modelpass/pass-manager',
            code: 'pass/timeout',
            hint: 'raise the pass timeout if the pass is just slow on this model',
          }),
        );
      }, timeoutMs);
      // The timer alone must not keep the process alive: an empty loop is reported at once.
      timer.unref();
    }
    Promise.resolve(result).then(
      (value) => {
        finish();
        resolve(value);
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
