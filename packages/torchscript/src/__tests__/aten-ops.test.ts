/**
 * One-op scripted modules (tools/fixtures/make_torchscript_ops.py, Debian torch) converted to ONNX
 * and run in ONNX Runtime against torch's own outputs. Every case the generator makes is listed
 * here as converting (with its tolerance) or as refused (with the message expected), so a lowering
 * that starts refusing, or a refusal that starts converting, fails the test.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { assertNoAtenOps, readTorchScript } from '@modelpass/torchscript';
import { repoRoot } from './torch/model-fixtures.js';
import { PYTHON, runPython } from './torch/torch-fixtures.js';

const GENERATOR = join(repoRoot, 'tools/fixtures/make_torchscript_ops.py');
const CACHE = join(repoRoot, '.fixtures-cache', 'torchscript-ops');

/** Absolute tolerance, scaled by max(1, |expected|). */
const CONVERTED: Readonly<Record<string, number>> = {
  split_size: 1e-6,
  split_sizes: 0,
  unbind: 1e-6,
  topk: 1e-6,
  topk_smallest_dim: 1e-6,
  sort: 0,
  sort_descending: 0,
  chunk_unpack: 1e-6,
  where: 1e-6,
  where_scalar: 0,
  masked_fill: 0,
  masked_fill_broadcast: 1e-6,
  logical_ops: 0,
  gather: 0,
  index_select: 0,
  repeat: 0,
  repeat_more_dims: 0,
  expand: 1e-6,
  expand_as: 1e-6,
  narrow: 0,
  flip: 0,
  roll: 0,
  tril_triu: 1e-6,
  cumsum: 1e-5,
  pixel_shuffle: 0,
  arange: 1e-6,
  arange_float_step: 1e-6,
  full_zeros_ones: 1e-6,
  new_zeros_ones: 0,
  to_dtype: 1e-6,
  int_truncation: 0,
  unary_math: 1e-5,
  rounding: 0,
  elu_softplus_mish: 1e-5,
  softplus_beta: 1e-5,
  atan2_fmod: 1e-5,
  clamp_min_max: 1e-6,
  prelu: 1e-6,
  prelu_single: 1e-6,
  amax_amin: 1e-6,
  var_std: 1e-5,
  var_whole: 1e-5,
  prod: 1e-5,
  norm: 1e-5,
  normalize: 1e-5,
  cosine_similarity: 1e-5,
  group_norm: 1e-4,
  instance_norm: 1e-4,
  interpolate_nearest: 0,
  interpolate_nearest_size: 0,
  interpolate_bilinear: 1e-5,
  interpolate_bilinear_align: 1e-5,
  upsample_module: 0,
  interpolate_bicubic: 1e-4,
  pad_constant: 0,
  pad_reflect: 0,
  pad_replicate: 0,
  adaptive_avg_pool_3: 1e-5,
  adaptive_avg_pool_uneven: 1e-5,
  adaptive_max_pool: 0,
  conv_transpose2d_functional: 1e-5,
  conv_transpose_module: 1e-5,
  einsum_matmul: 1e-4,
  einsum_attention: 1e-4,
  baddbmm: 1e-4,
  index_list: 0,
  flatten_middle: 0,
  remainder_float: 1e-5,
  integer_ops: 0,
  nearest_exact: 0,
  sort_stable: 0,
  inplace_ops: 1e-6,
  split_loop: 1e-5,
  interpolate_area: 1e-5,
  layer_norm_plain: 1e-5,
  setitem: 0,
  setitem_decode: 1e-5,
  scalar_arguments: 1e-6,
  embedding: 0,
  minimum_maximum: 1e-6,
  logsumexp: 1e-5,
  log_family: 1e-5,
  glu: 1e-6,
  repeat_interleave: 0,
  movedim_swapaxes: 0,
  lerp_addcmul: 1e-5,
  outer_threshold: 1e-6,
  integer_division: 0,
  setitem_siblings: 1e-6,
  setitem_repeated: 1e-6,
};

/** Cases refused on purpose: the message must name the op and what is not handled. */
const REFUSED: Readonly<Record<string, RegExp>> = {
  interpolate_antialias: /aten::_upsample_bilinear2d_aa: antialias=True is not supported/,
  pad_circular: /aten::pad: pad mode 'circular' is not supported/,
  topk_unsorted: /aten::topk: sorted=False/,
  setitem_stale_view: /mul reads a slice of a tensor taken before that tensor was written in place/,
  setitem_strided: /in-place copy_ writes into a view of another tensor/,
  masked_select: /aten::index: indexing with a boolean mask/,
};

interface Manifest {
  cases: string[];
  traced: string[];
  failed: Record<string, string>;
  generator_sha256: string;
}

let manifest: Manifest;
let work: string;

/** Reuses .fixtures-cache/torchscript-ops when it was made by this generator; makes it otherwise. */
function fixtures(): Manifest {
  const digest = createHash('sha256').update(readFileSync(GENERATOR)).digest('hex');
  const path = join(CACHE, 'manifest.json');
  if (existsSync(path)) {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (cached.generator_sha256 === digest) return cached;
  }
  // Made beside the cache and moved into place, so a concurrent run never reads a half-made folder.
  const fresh = `${CACHE}.tmp-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  runPython(GENERATOR, ['--out', fresh], 300_000);
  rmSync(CACHE, { recursive: true, force: true });
  renameSync(fresh, CACHE);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

beforeAll(() => {
  manifest = fixtures();
  work = mkdtempSync(join(tmpdir(), 'modelpass-aten-ops-'));
}, 300_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function worstScaledDifference(actual: Tensor, expected: Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.toNumbers();
  const b = expected.toNumbers();
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
  }
  return worst;
}

const inputShape = { inputs: [{ shape: [2, 4, 6, 6] }] };

describe('the one-op corpus', () => {
  it('lists every case the generator made, and torch made every case', () => {
    expect(manifest.failed).toEqual({});
    expect([...manifest.cases].sort()).toEqual([...Object.keys(CONVERTED), ...Object.keys(REFUSED)].sort());
  });
});

describe.each(Object.entries(CONVERTED))('%s', (name, tolerance) => {
  it(`converts to ONNX that ORT runs within ${tolerance} of torch`, async () => {
    const model = readTorchScript(join(CACHE, `${name}.pt`), inputShape);
    assertNoAtenOps(model, `${name}.pt`, 'onnx');
    const onnxPath = join(work, `${name}.onnx`);
    writeOnnx(model, onnxPath);
    const outputs = await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(CACHE, 'input.npy')) });
    const [output] = [...outputs.values()];
    const expected = readNpy(join(CACHE, `${name}.expected.npy`));
    expect(output!.dtype).toBe(expected.dtype);
    expect(worstScaledDifference(output!, expected)).toBeLessThanOrEqual(tolerance);
  }, 30_000);
});

/** Traced archives (torch.jit.trace of the same module; every argument printed, constants in constants.pkl). */
describe.each(Object.entries(CONVERTED))('%s traced', (name, tolerance) => {
  it(`converts to ONNX that ORT runs within ${tolerance} of torch`, async () => {
    expect(manifest.traced).toContain(name);
    const model = readTorchScript(join(CACHE, `${name}.traced.pt`), inputShape);
    assertNoAtenOps(model, `${name}.traced.pt`, 'onnx');
    const onnxPath = join(work, `${name}.traced.onnx`);
    writeOnnx(model, onnxPath);
    const outputs = await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(CACHE, 'input.npy')) });
    const expected = readNpy(join(CACHE, `${name}.expected.npy`));
    const [output] = [...outputs.values()];
    expect(output!.dtype).toBe(expected.dtype);
    expect(worstScaledDifference(output!, expected)).toBeLessThanOrEqual(tolerance);
  }, 30_000);
});

/** Converting cases that need the batch size (a write into one sample): refused with a symbolic batch. */
const SYMBOLIC_BATCH_REFUSED: Readonly<Record<string, RegExp>> = {
  setitem: /aten::copy_: writing into a slice along dim 0 needs that dim's size/,
};

describe.each(Object.keys(CONVERTED))('%s with a symbolic batch', (name) => {
  it('converts with input shape [batch, 4, 6, 6] and runs in ORT like torch (or is refused by name)', async () => {
    const symbolic = { inputs: [{ shape: ['batch', 4, 6, 6] }] };
    const refusal = SYMBOLIC_BATCH_REFUSED[name];
    if (refusal) {
      expect(() => readTorchScript(join(CACHE, `${name}.pt`), symbolic)).toThrow(refusal);
      return;
    }
    const model = readTorchScript(join(CACHE, `${name}.pt`), symbolic);
    assertNoAtenOps(model, `${name}.pt`, 'onnx');
    const onnxPath = join(work, `${name}.batch.onnx`);
    writeOnnx(model, onnxPath);
    const outputs = await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(join(CACHE, 'input.npy')) });
    const expected = readNpy(join(CACHE, `${name}.expected.npy`));
    expect(worstScaledDifference([...outputs.values()][0]!, expected)).toBeLessThanOrEqual(CONVERTED[name]!);
  }, 30_000);
});

describe.each(Object.entries(REFUSED))('%s', (name, message) => {
  it('is refused with a located error naming what is not handled', () => {
    let error: unknown;
    try {
      assertNoAtenOps(readTorchScript(join(CACHE, `${name}.pt`), inputShape), `${name}.pt`, 'onnx');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeDefined();
    expect((error as Error).name).toBe('ModelpassError');
    expect(String((error as Error).message)).toMatch(message);
  });
});

describe('every converted model', () => {
  it("passes onnx's full checker (types and shapes inferred by ONNX itself)", () => {
    const files = readdirSync(work).filter((f) => f.endsWith('.onnx')).map((f) => join(work, f));
    expect(files.length).toBeGreaterThanOrEqual(Object.keys(CONVERTED).length);
    const script = 'import onnx, sys\nbad = []\nfor f in sys.argv[1:]:\n  try: onnx.checker.check_model(onnx.load(f), full_check=True)\n  except Exception as e: bad.append(f + ": " + str(e).splitlines()[0])\nprint("\\n".join(bad))';
    const failures = execFileSync(PYTHON, ['-c', script, ...files], { encoding: 'utf8', timeout: 120_000 }).trim();
    expect(failures).toBe('');
  }, 150_000);
});

describe('forward arguments that are not tensors', () => {
  it('are bound by name while importing: k=3 gives three values whose first two are torch\'s k=2 result', async () => {
    const model = readTorchScript(join(CACHE, 'scalar_arguments.pt'), { inputs: { x: { shape: [2, 4, 6, 6] }, k: { value: 3 }, positive: { value: true } } });
    expect(model.graph.inputs.map((input) => input.name)).toEqual(['x']);
    const onnxPath = join(work, 'scalar_arguments.k3.onnx');
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { x: readNpy(join(CACHE, 'input.npy')) })).values()];
    expect(output!.shape).toEqual([2, 3, 6, 6]);
    const values = output!.toNumbers();
    const expected = readNpy(join(CACHE, 'scalar_arguments.expected.npy')).toNumbers();
    const firstTwo = values.filter((_, i) => Math.floor(i / 36) % 3 < 2);
    expect(firstTwo).toEqual(expected);
  });

  it('left unbound, each is fixed at its default and the import says so', () => {
    const notes: string[] = [];
    readTorchScript(join(CACHE, 'scalar_arguments.pt'), { inputs: { x: { shape: [2, 4, 6, 6] }, k: { value: 3 } }, onNote: (note) => notes.push(note) });
    expect(notes).toEqual([
      "forward argument 'scale' (float) is fixed at its default 0.5 in the converted graph; bind another value with --bind scale=… (convert, compare, inspect; API: readTorchScript's inputs: { scale: { value: … } })",
      "forward argument 'positive' (bool) is fixed at its default true in the converted graph; bind another value with --bind positive=… (convert, compare, inspect; API: readTorchScript's inputs: { positive: { value: … } })",
    ]);
  });

  it('refuse a value of the wrong type, and a value for a Tensor argument, naming the argument', () => {
    expect(() => readTorchScript(join(CACHE, 'scalar_arguments.pt'), { inputs: { x: { shape: [2, 4, 6, 6] }, k: { value: 1.5 } } })).toThrow(/forward argument 'k' is typed int; the value bound to it \(1.5\) is not one/);
    expect(() => readTorchScript(join(CACHE, 'scalar_arguments.pt'), { inputs: { x: { value: 1 } } })).toThrow(/forward argument 'x' is a Tensor/);
  });
});
