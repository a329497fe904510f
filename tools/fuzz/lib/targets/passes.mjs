/**
 * The `passes` mode: a model that parses can still crash a pass. Inputs are *valid* models (the
 * fixture models, ONNX's conformance node/real models, small torchvision models) with 1–3
 * structure-aware mutations (`mutate-onnx-model.mjs`), as ONNX bytes. A case imports the bytes
 * (`decodeOnnx`; a ModelpassError there is a rejection) and then runs, each on its own fresh
 * import, the pipelines users run — simplify, optimize, legalize-tflite + writeTflite,
 * quantize-dynamic, convert-float16 (each written back as ONNX), the ONNX writer alone and the
 * TorchScript writer — under verify-each, as `modelpass convert` does. Each pipeline may refuse
 * the model with a ModelpassError; a finding is anything else:
 *   - another error type, also when a ModelpassError only wraps it (the pass manager wraps what a
 *     pass throws: a TypeError inside a pass reaches the user as "pass 'x' failed: …");
 *   - a ModelpassError admitting an internal error;
 *   - a pass that left the IR invalid (verify-each/failed: the input verified, the pass broke it);
 *   - a written file our own reader refuses (.onnx, .tflite, the TorchScript archive);
 *   - one pipeline running over the time limit (`--time-limit-ms`, 10 s by default here).
 */
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelpassError, verifyModel } from '@modelpass/ir';
import { decodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes, propagatedValues } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { assertNoTfliteOps, readTflite, registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { assertNoAtenOps, readTorchArchive, writeTorchScript } from '@modelpass/torchscript';
import { inlineModelFunctions, transformPasses } from '@modelpass/transforms';
import { decodeModelObject, encodeModelObject, mutateModelObject } from '../mutate-onnx-model.mjs';
import { isDocumentedRejection } from '../oracle.mjs';
import { PropertyViolation } from '../property.mjs';
import { reduceOnnxModel } from '../reduce-onnx-model.mjs';
import { scratchFolder } from '../scratch.mjs';
import { REPO_ROOT, corpusFiles, onnxModelFiles, readSeeds } from '../seeds.mjs';

/** What each case runs: a pipeline (undefined: verify only, as convert without --pipeline) and the writer after it. */
export const PASS_PIPELINES = [
  { name: 'simplify', pipeline: 'simplify', write: 'onnx' },
  { name: 'optimize', pipeline: 'optimize', write: 'onnx' },
  { name: 'legalize-tflite', pipeline: 'legalize-tflite', write: 'tflite' },
  { name: 'quantize-dynamic', pipeline: 'quantize-dynamic', write: 'onnx' },
  { name: 'convert-float16', pipeline: 'convert-float16', write: 'onnx' },
  { name: 'onnx-writer', pipeline: undefined, write: 'onnx', valueInfo: 'all' },
  { name: 'torchscript-writer', pipeline: undefined, write: 'torchscript' },
];

/** Small torchvision models (the cache tools/fixtures/make_torchvision.py fills), rarely picked. */
const TORCHVISION = join(REPO_ROOT, '.fixtures-cache', 'torchvision');
const MAX_TORCHVISION_BYTES = 6 * 1024 * 1024;

/** An error that says one pipeline ran over the time limit (run-case reports it as a time-limit finding). */
class CaseTimeLimit extends Error {
  constructor(message) {
    super(message);
    this.name = 'CaseTimeLimit';
  }
}

function environment() {
  const env = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  env.passes.register(transformPasses, '@modelpass/transforms');
  env.passes.register(quantizePasses, '@modelpass/quantize');
  env.passes.register(tflitePasses, '@modelpass/tflite');
  return env;
}

/** The first error along `cause` that is not a ModelpassError (a crash a ModelpassError only wraps). */
export function wrappedCrash(error) {
  const seen = new Set();
  for (let e = error?.cause; e !== undefined && e !== null && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (ModelpassError.is(e)) continue;
    // A system error (ENOSPC, EACCES …) wrapped with the file it concerns is a documented refusal.
    if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return undefined;
    return e;
  }
  return undefined;
}

/** The same error, named by pipeline, keeping the thrower's stack (its class key stays the thrower's). */
function renamed(error, pipeline) {
  const out = new Error(`in pipeline '${pipeline}': ${error?.message ?? String(error)}`);
  out.name = error?.name ?? typeof error;
  if (typeof error?.stack === 'string') out.stack = `${out.name}: ${out.message}\n${error.stack.split('\n').slice(1).join('\n')}`;
  return out;
}

function loadSeedModels(options) {
  const files = [...onnxModelFiles(), ...corpusFiles(options.corpus)];
  if (existsSync(TORCHVISION)) {
    for (const name of readdirSync(TORCHVISION).sort()) {
      const path = join(TORCHVISION, name);
      if (name.endsWith('.onnx') && statSync(path).size <= MAX_TORCHVISION_BYTES) files.push(path);
    }
  }
  // Valid models only: what the importer refuses as it is says nothing about the passes.
  const seeds = [];
  for (const seed of readSeeds(files)) {
    try {
      decodeOnnx(seed.bytes, { file: seed.name });
      seeds.push(seed);
    } catch {
      // not a valid model (some conformance models use ops or types the importer refuses)
    }
  }
  return seeds;
}

function pickSeedModel(rng, seeds) {
  const small = seeds.small ?? (seeds.small = seeds.filter((s) => s.bytes.length <= 64 * 1024));
  const medium = seeds.medium ?? (seeds.medium = seeds.filter((s) => s.bytes.length > 64 * 1024 && s.bytes.length <= 2 * 1024 * 1024));
  const large = seeds.large ?? (seeds.large = seeds.filter((s) => s.bytes.length > 2 * 1024 * 1024));
  const bucket = rng.weighted([[90, small], [9, medium], [1, large]]);
  return rng.pick(bucket.length ? bucket : small);
}

/**
 * The verifier codes of the errors the imported model has before any pass. verify-each tolerates some in an input
 * (stale declared shapes, unknown ops, and what reads a stale shape) and blames a pass only for errors it did not
 * see before — by their text, which names nodes: a pass that renames or replaces the node (ReduceSum → tflite.SUM)
 * "introduces" the input's own error. The same holds for an error the input hides behind types it leaves unknown
 * (a dropped input type, a mutated Cast): simplify infers the types and verify-each then blames it. So the codes are
 * those of the imported model and of the model after shape inference; such an error is the input's, not a finding.
 */
function inputErrorCodes(input, state) {
  const model = decodeOnnx(input, { file: 'fuzz-input.onnx' });
  const codes = (knownValues) => verifyModel(model, { registry: state.environment.ops, ...(knownValues ? { knownValues } : {}) }).filter((d) => d.severity === 'error').map((d) => d.code);
  const found = new Set(codes());
  // With the data the model computes from known shapes (a Reshape target from Shape/Slice/Concat), as convert's input check sees it.
  for (const code of codes(propagatedValues(model, { registry: state.environment.ops }))) found.add(code);
  try {
    inferShapes(model);
    for (const code of codes()) found.add(code);
  } catch {
    // inference refuses the model: the passes that infer (simplify) refuse it too
  }
  return found;
}

async function runPipeline(spec, input, state) {
  const model = decodeOnnx(input, { file: 'fuzz-input.onnx' });
  // verify-each as `modelpass convert` sets it up: the input check sees the data the model computes from known shapes.
  const manager = new PassManager({ environment: state.environment, verifyEach: { knownValues: (m) => propagatedValues(m, { registry: state.environment.ops }) } });
  await manager.run(model, spec.pipeline ? manager.parse(spec.pipeline) : { steps: [] });
  const path = join(state.dir, spec.write === 'tflite' ? 'out.tflite' : spec.write === 'torchscript' ? 'out.pt' : 'out.onnx');
  if (spec.write === 'onnx') {
    assertNoTfliteOps(model, path, 'ONNX');
    assertNoAtenOps(model, path, 'ONNX');
    writeOnnx(model, path, spec.valueInfo ? { valueInfo: spec.valueInfo } : {});
    readBack(spec, path, () => readOnnx(path));
  } else if (spec.write === 'tflite') {
    writeTflite(model, path);
    readBack(spec, path, () => readTflite(path));
  } else {
    inlineModelFunctions(model);
    writeTorchScript(model, path);
    readBack(spec, path, () => readTorchArchive(path));
  }
}

/** Our own reader must read what our writer wrote. */
function readBack(spec, path, read) {
  try {
    read();
  } catch (error) {
    throw new PropertyViolation('read-back', `pipeline '${spec.name}' wrote a file its reader refuses: ${String(error?.message ?? error).split('\n')[0].replaceAll(path, '<file>')}`, ModelpassError.is(error) ? undefined : error);
  }
}

function countOutcome(state, spec, outcome) {
  const counts = (state.pipelineCounts[spec.name] ??= { ok: 0, refused: 0 });
  counts[outcome]++;
}

export const passesTarget = {
  name: 'passes',
  extension: 'onnx',
  inputKind: 'bytes',
  /** Defaults of this mode (flags given on the command line win): one pipeline may take 10 s. */
  defaultOptions: { timeLimitMs: 10000, hangKillMs: 60000, memorySlackMb: 1024, minimizeBudget: 120 },
  /** The whole case may take the per-pipeline limit once per pipeline. */
  timeLimitFactor: PASS_PIPELINES.length,
  /** Byte-level cuts of a protobuf rarely keep it decodable: shrink by structure only. */
  structuralMinimizeOnly: true,
  setup(options) {
    return {
      seeds: loadSeedModels(options),
      objects: new Map(),
      environment: environment(),
      dir: mkdtempSync(join(scratchFolder(options), 'passes-')),
      pipelineLimitMs: options.timeLimitMs,
      pipelineCounts: {},
    };
  },
  generate(rng, state) {
    const seed = pickSeedModel(rng, state.seeds);
    let object = state.objects.get(seed.name);
    if (object === undefined) {
      object = decodeModelObject(seed.bytes) ?? null;
      state.objects.set(seed.name, object);
    }
    if (!object) return seed.bytes;
    return encodeModelObject(mutateModelObject(rng, object).model);
  },
  async parse(input, state) {
    const inputCodes = inputErrorCodes(input, state); // a ModelpassError here: the case is a rejection
    for (const spec of PASS_PIPELINES) {
      const started = performance.now();
      try {
        await runPipeline(spec, input, state);
        countOutcome(state, spec, 'ok');
      } catch (error) {
        if (error?.name === 'PropertyViolation') throw error;
        if (!isDocumentedRejection(error)) throw ModelpassError.is(error) ? error : renamed(error, spec.name);
        const crash = wrappedCrash(error);
        if (crash) throw renamed(crash, spec.name);
        if (error.diagnostics?.[0]?.code === 'verify-each/failed') {
          const introduced = error.diagnostics.slice(1).filter((d) => !inputCodes.has(d.code));
          if (introduced.length > 0) {
            const [first] = introduced;
            throw new PropertyViolation('verify-each', `pipeline '${spec.name}': ${error.diagnostics[0].reason}: ${first.reason}${first.code ? ` [${first.code}]` : ''}`);
          }
        }
        countOutcome(state, spec, 'refused');
      }
      const ms = performance.now() - started;
      if (ms > state.pipelineLimitMs) throw new CaseTimeLimit(`pipeline '${spec.name}' took ${ms.toFixed(0)} ms (limit ${state.pipelineLimitMs} ms)`);
    }
    return { pipelines: PASS_PIPELINES.length };
  },
  check() {},
  reduce: (input) => reduceOnnxModel(input),
  statsOf: (state) => ({ pipelines: state.pipelineCounts }),
};
