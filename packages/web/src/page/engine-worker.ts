/**
 * The page's engine, in a Web Worker: holds the loaded model's bytes and the last result, runs the
 * pipeline and the reference-interpreter comparison, and answers with plain data (the result's
 * bytes are transferred, not copied).
 */
import type { FromEngine, ToEngine } from './messages.js';
import { availablePasses, pageEnvironment, runPipelineOnBytes } from './pipeline-runner.js';
import { checkWithReference } from './reference-check.js';
import { checkRowOf, verdictDetail } from './check-rows.js';

interface WorkerScope {
  postMessage(message: FromEngine, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToEngine>) => void) | null;
}

const scope = self as unknown as WorkerScope;
const environment = pageEnvironment();
let last: { original: Uint8Array; output: Uint8Array; fileName: string } | undefined;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function handle(message: ToEngine): Promise<void> {
  if (message.type === 'run') {
    last = undefined;
    const run = await runPipelineOnBytes(message.bytes, message.fileName, message.pipeline, environment);
    last = { original: message.bytes, output: run.output, fileName: message.fileName };
    // The UI gets its own copy to transfer; the worker keeps `output` for the comparison.
    const output = run.output.slice();
    scope.postMessage({ type: 'ran', output, before: run.before, after: run.after, passes: run.passes, totalMs: run.totalMs, warnings: run.warnings }, [output.buffer]);
    return;
  }
  if (!last) throw new Error('run a pipeline first');
  const check = await checkWithReference(last.original, last.output, last.fileName);
  scope.postMessage({
    type: 'checked',
    rows: check.comparison.perOutput.map(checkRowOf),
    withinTolerance: check.comparison.withinTolerance,
    detail: verdictDetail(check.comparison),
    inputs: check.inputs,
    ms: check.ms,
  });
}

scope.onmessage = (event) => {
  handle(event.data).catch((error: unknown) => scope.postMessage({ type: 'error', message: messageOf(error) }));
};
scope.postMessage({ type: 'passes', passes: availablePasses(environment).map((pass) => ({ name: pass.name, summary: pass.summary })) });
