import { ModelpassError, type DiagnosticInit, type Model, type Node, type OpRegistry } from '@modelpass/ir';
import { sinkTransposes, type SinkTransposesResult } from '@modelpass/transforms';
import { registerTfliteDialect } from '../dialect/index.js';
import { declareChannelsLast } from '../layout/io-layout.js';
import { recordChannelsLastIo } from '../layout/io-layout-metadata.js';
import { analyzeLayout } from '../layout/layout-analysis.js';
import { countTransposes, type TransposeCount } from '../layout/transpose-count.js';
import { fuseActivations } from './fuse-activations.js';
import { assertBoundableBeforeLowering, boundDataDependentShapes } from './shape-bounds.js';
import { DEFAULT_LEGALIZE_OPTIONS, type LegalizeOptions, type LoweringContext, type LoweringRegistry } from './lowering-rule.js';
import { defaultLoweringRules } from './rules/index.js';
import { canonicalRegions, regionModel } from './rules/region-graphs.js';

export interface LegalizeResult {
  /** Canonical nodes lowered to tflite ops. */
  readonly lowered: number;
  /** Activations folded into the op before them. */
  readonly fusedActivations: number;
  /** The graph inputs/outputs declared NHWC (io-layout=nhwc). */
  readonly channelsLastIo: readonly string[];
  /** What the layout analysis predicted, before conversion. */
  readonly estimate: { readonly inner: number; readonly boundary: number };
  /** Transposes left in the result. */
  readonly transposes: TransposeCount;
  readonly sinking: SinkTransposesResult;
}

const TFLITE_DIALECT_PREFIX = 'tflite.';

let builtinRules: LoweringRegistry | undefined;
/** The default rules, built once (40-odd rule tables): only read here, never added to (a plugin passes its own registry). */
function defaultRules(): LoweringRegistry {
  return (builtinRules ??= defaultLoweringRules());
}

/** The canonical op set plus the tflite dialect (when `registry` lacks it). */
export function withTfliteDialect(registry: OpRegistry): OpRegistry {
  return registry.has('tflite.CONV_2D') ? registry : registerTfliteDialect(registry.clone());
}

/**
 * Every node that cannot be lowered, with its location and why, in graph order (subgraph nodes
 * of a control-flow node its rule accepts included). Changes nothing.
 */
export function unmappableNodes(model: Model, context: LoweringContext, rules: LoweringRegistry = defaultRules()): DiagnosticInit[] {
  const problems: DiagnosticInit[] = [];
  const visit = (node: Node, nested: boolean): void => {
    if (node.op.startsWith(TFLITE_DIALECT_PREFIX)) {
      // IF/WHILE built from If/Loop (rules/control-flow-regions.ts): each region is checked as a model of its own.
      for (const region of canonicalRegions(node)) problems.push(...unmappableNodes(regionModel(region, model), regionContext(context, region), rules));
      return;
    }
    const rule = rules.get(node.op);
    let reason: string | undefined;
    if (nested) reason = 'ops inside subgraphs (If/Loop/Scan bodies) are not lowered to TFLite yet';
    else if (!rule) reason = node.subgraphs.length > 0 ? `${node.op} (control flow) has no TFLite lowering yet` : `${node.op} has no TFLite lowering`;
    else reason = rule.check(node, context);
    if (reason) problems.push({ reason, location: node.location, source: '@modelpass/tflite', code: 'tflite/unmappable' });
    // A refused If/Loop/Scan (control-flow.ts says why) stands for its body.
    if (reason && !nested && rule) return;
    for (const subgraph of node.subgraphs) for (const inner of subgraph.nodes()) visit(inner, true);
  };
  for (const value of [...model.graph.inputs, ...model.graph.outputs]) {
    if (value.type.kind === 'tensor' || value.type.kind === 'unknown') continue;
    problems.push({
      reason: `graph ${value.isGraphInput ? 'input' : 'output'} '${value.name}' is not a tensor (its kind: ${value.type.kind}); TFLite inputs and outputs are dense tensors`,
      location: { path: model.graph.path() },
      source: '@modelpass/tflite',
      code: 'tflite/unmappable',
    });
  }
  for (const node of model.graph.nodes()) visit(node, false);
  return problems;
}

/** The lowering context of a region: its own model; NCHW at its edges (they meet the enclosing graph's values). */
function regionContext(context: LoweringContext, region: Model['graph']): LoweringContext {
  return { ...context, model: regionModel(region, context.model), options: { ...context.options, ioLayout: 'nchw' } };
}

/** Throws one ModelpassError listing every node that cannot be lowered (before anything changes). */
export function assertLowerable(model: Model, context: LoweringContext, rules: LoweringRegistry = defaultRules()): void {
  const problems = unmappableNodes(model, context, rules);
  if (problems.length === 0) return;
  const summary: DiagnosticInit = {
    reason: `${problems.length} node(s) cannot be converted to TFLite; nothing was changed`,
    source: '@modelpass/tflite',
    code: 'tflite/unmappable',
    hint: 'each node is listed below with why; the op coverage table of @modelpass/tflite says what maps',
  };
  throw new ModelpassError([summary, ...problems]);
}

/**
 * Canonical (NCHW, ONNX semantics) → tflite dialect (NHWC): checks every node first, wraps
 * layout-sensitive ops as NHWC builtins between transposes, declares image inputs/outputs NHWC when
 * asked, sinks and cancels transposes, lowers the remaining ops, fuses activations. The model must
 * carry types (run shape inference first).
 */
export function lowerToTflite(model: Model, registry: OpRegistry, options: Partial<LegalizeOptions> = {}, rules: LoweringRegistry = defaultRules()): LegalizeResult {
  const context: LoweringContext = { model, options: { ...DEFAULT_LEGALIZE_OPTIONS, ...options }, registry: withTfliteDialect(registry) };
  assertLowerable(model, context, rules);
  assertBoundableBeforeLowering(model.graph); // a graph output of unboundable run-time length: refused before anything changes
  let regions = 0;
  for (let node = model.graph.firstNode; node; node = node.next) {
    if (node.subgraphs.length === 0) continue; // regions are If/Loop bodies: most nodes have none
    for (const region of canonicalRegions(node)) {
      lowerToTflite(regionModel(region, model), registry, regionContext(context, region).options, rules);
      regions++;
    }
  }
  const layout = analyzeLayout(model);
  // By position: lowering a layout op that writes a graph output replaces that output's value.
  const boundaryOutputPositions = layout.boundaryOutputs.map((output) => model.graph.outputs.indexOf(output));
  let lowered = 0;
  const nodes = model.graph.nodeList();
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const rule = rules.get(node.op);
    if (node.graph && rule?.stage === 'layout') {
      rule.lower(node, context);
      lowered++;
    }
  }
  const channelsLastIo = context.options.ioLayout === 'nhwc' ? declareChannelsLast(model, layout.boundaryInputs, boundaryOutputPositions.map((position) => model.graph.outputs[position]!)) : [];
  // By position too: what was declared channels-last is recorded in the file (metadata) once lowering is done.
  const declared = new Set(channelsLastIo);
  const channelsLastInputs = model.graph.inputs.flatMap((input, position) => (declared.has(input.name) ? [position] : []));
  const channelsLastOutputs = boundaryOutputPositions.filter((position) => declared.has(model.graph.outputs[position]?.name ?? ''));
  const sinking = sinkTransposes(model);
  // Nothing moved since assertLowerable checked every node (no region, no layout op, no NHWC edge, no transpose
  // moved): the first round's nodes are as they were checked, so their checks are not asked again.
  const unchanged =
    regions === 0 &&
    lowered === 0 &&
    channelsLastIo.length === 0 &&
    sinking.pushed + sinking.merged + sinking.folded + sinking.absorbed + sinking.reshaped === 0;
  // Lowering may leave an onnx.Identity behind (a graph output that became a graph input): a second round lowers it.
  for (let round = 0; round < 3; round++) {
    const canonical = model.graph.nodeList().filter((node) => !node.op.startsWith(TFLITE_DIALECT_PREFIX));
    if (canonical.length === 0) break;
    const checked = round === 0 && unchanged;
    for (let i = 0; i < canonical.length; i++) {
      const node = canonical[i]!;
      if (!node.graph) continue;
      const rule = rules.get(node.op);
      const reason = rule ? (checked ? undefined : rule.check(node, context)) : `${node.op} has no TFLite lowering`;
      if (reason || !rule) throw new ModelpassError({ reason: `after layout conversion: ${reason}`, location: node.location, source: '@modelpass/tflite', code: 'tflite/unmappable' });
      rule.lower(node, context);
      lowered++;
    }
  }
  const fusedActivations = fuseActivations(model.graph);
  boundDataDependentShapes(model.graph); // largest shapes of the tensors after WHERE/UNIQUE/…, which runtimes size buffers by
  for (const constant of [...model.graph.constants]) if (!constant.hasUses && !constant.isGraphInput) model.graph.removeConstant(constant);
  if (context.options.ioLayout === 'nhwc') {
    const { inputs, outputs } = model.graph;
    const names = (values: typeof inputs, positions: number[]): string[] => positions.flatMap((i) => (values[i] ? [values[i]!.name] : []));
    recordChannelsLastIo(model, { inputs: names(inputs, channelsLastInputs), outputs: names(outputs, channelsLastOutputs) });
  }
  return { lowered, fusedActivations, channelsLastIo, estimate: layout.estimate, transposes: countTransposes(model.graph), sinking };
}
