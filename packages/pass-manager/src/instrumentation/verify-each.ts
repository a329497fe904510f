import { formatDiagnostic, ModelpassError, verifyModel, type Diagnostic, type Graph, type KnownValues, type Model, type OpRegistry, type VerifyOptions } from '@modelpass/ir';
import { describePass, PassFailure } from '../pass-failure.js';
import type { PassInstrumentation, PassRunInfo, PipelineRunInfo } from './instrumentation.js';

export interface VerifyEachOptions {
  /** Verify the model before the first pass, so broken input is not blamed on a pass (default true). */
  readonly verifyInput?: boolean;
  /**
   * Fail on ops of the input that the op registry does not know (default false: they are accepted
   * as they came from the frontend, and only ops a pass introduces are checked).
   */
  readonly strictInput?: boolean;
  /** Passed to `verifyModel` (the registry is the environment's op registry). */
  readonly unknownOps?: VerifyOptions['unknownOps'];
  /** Receives the input's tolerated problems as warnings (the PassManager passes its `onDiagnostic`). */
  readonly onInputWarning?: (diagnostic: Diagnostic) => void;
  /**
   * Data the input model computes from known data, for the input check only: a declared output that contradicts a
   * Reshape target computed from Shape(x) is then the input's stale declaration (a tolerated warning), not an error
   * of the pass that later folds the computation. Default: what the environment's op registry knows
   * (`registry.knownValuesOf`; `createOpRegistry` of `@modelpass/ops` gives its `propagatedValues`); `false`: none.
   */
  readonly knownValues?: ((model: Model, registry: OpRegistry | undefined) => KnownValues) | false;
}

/**
 * Problems of the input model that fail only with `strictInput`: ops the registry does not know,
 * and declared shapes of intermediate values that contradict inference (`verify/declared-shape`)
 * together with the shape checks (`ops/...`, not type constraints) of the nodes that read such a
 * value. ONNX Runtime runs such files (it merges declared intermediate shapes leniently), so
 * refusing them would reject models that run; they are reported as warnings and never blamed on a
 * pass, while a pass that introduces a new one still fails. Refresh the types with
 * `inferShapes(model, { mode: 'refresh' })`.
 */
function toleratedInputErrors(model: Model, errors: readonly Diagnostic[]): Diagnostic[] {
  const stale = errors.filter((d) => d.code === 'verify/declared-shape');
  const staleNodes = new Set(stale.map((d) => d.location?.node));
  const readers = new Set<string>();
  const visit = (graph: Graph): void => {
    for (const node of graph.nodes()) {
      if (staleNodes.has(node.name)) {
        for (const output of node.outputs) for (const use of output?.uses ?? []) if (use.node) readers.add(use.node.name);
      }
      for (const subgraph of node.subgraphs) visit(subgraph);
    }
  };
  if (stale.length > 0) visit(model.graph);
  const readsStaleShape = (d: Diagnostic): boolean =>
    d.code !== undefined && d.code.startsWith('ops/') && d.code !== 'ops/type-constraint' && d.location?.node !== undefined && readers.has(d.location.node);
  return errors.filter((d) => d.code === 'verify/unknown-op' || d.code === 'verify/declared-shape' || readsStaleShape(d));
}

/**
 * Runs `verifyModel` with the environment's op registry after every pass and fails the pass that
 * left invalid IR, listing the errors it introduced. Errors already present before the pass (only
 * unknown ops and stale declared shapes of the input can be, unless `strictInput`) are not blamed
 * on it. The PassManager installs this unless `verifyEach: false`.
 */
export class VerifyEachInstrumentation implements PassInstrumentation {
  readonly name = 'verify-each';
  private run: PipelineRunInfo | undefined;
  /** Errors the IR had before the current pass, by their text. */
  private baseline = new Set<string>();
  /** The input's tolerated errors, by their text: never blamed on a pass, even one after a pass that hid them. */
  private inputTolerated = new Set<string>();

  constructor(private readonly options: VerifyEachOptions = {}) {}

  private errors(model: Model, knownValues?: KnownValues): Diagnostic[] {
    const registry = this.run?.environment.ops;
    const options: VerifyOptions = {
      ...(registry ? { registry } : {}),
      ...(this.options.unknownOps ? { unknownOps: this.options.unknownOps } : {}),
      ...(knownValues ? { knownValues } : {}),
    };
    return verifyModel(model, options).filter((d) => d.severity === 'error');
  }

  /** The known data the input check sees: the option's, else the op registry's (see `VerifyEachOptions.knownValues`). */
  private inputKnownValues(model: Model, registry: OpRegistry | undefined): KnownValues | undefined {
    const option = this.options.knownValues;
    if (option === false) return undefined;
    return option ? option(model, registry) : registry?.knownValuesOf(model);
  }

  beforePipeline(model: Model, run: PipelineRunInfo): void {
    this.run = run;
    this.baseline = new Set();
    this.inputTolerated = new Set();
    if (this.options.verifyInput === false) return;
    const errors = this.errors(model, this.inputKnownValues(model, run.environment.ops));
    const tolerated = this.options.strictInput ? [] : toleratedInputErrors(model, errors);
    const fatal = errors.filter((d) => !tolerated.includes(d));
    this.inputTolerated = new Set(tolerated.map((d) => formatDiagnostic(d)));
    this.baseline = this.inputTolerated;
    for (const d of tolerated) {
      if (d.code === 'verify/unknown-op') continue;
      this.options.onInputWarning?.({
        ...d,
        severity: 'warning',
        notes: [...(d.notes ?? []), 'the input model declares it so; ONNX Runtime runs it (declared intermediate shapes are merged leniently), so it is not an error of the input'],
      });
    }
    if (fatal.length === 0) return;
    throw new ModelpassError([
      {
        reason: `the input model is invalid before any pass ran (${fatal.length} error${fatal.length === 1 ? '' : 's'})`,
        source: '@modelpass/pass-manager',
        code: 'verify-each/invalid-input',
        hint: 'fix the model or the frontend that produced it',
      },
      ...fatal,
    ]);
  }

  afterPass(model: Model, pass: PassRunInfo): void {
    const errors = this.errors(model);
    const introduced = errors.filter((d) => {
      const text = formatDiagnostic(d);
      return !this.baseline.has(text) && !this.inputTolerated.has(text);
    });
    if (introduced.length === 0) {
      this.baseline = new Set(errors.map((d) => formatDiagnostic(d)));
      return;
    }
    throw new PassFailure(pass.passName, pass.owner, [
      {
        reason: `${describePass(pass.passName, pass.owner)} left the IR invalid (${introduced.length} verifier error${introduced.length === 1 ? '' : 's'})`,
        source: '@modelpass/pass-manager',
        code: 'verify-each/failed',
        notes: [`pass execution #${pass.index}${pass.nesting.length ? ` inside ${pass.nesting.join('/')}` : ''}`],
      },
      ...introduced,
    ]);
  }
}
