/**
 * Runs TorchScript archives (`.pt`) on PyTorch itself: `torch.jit.load` in a `/usr/bin/python3`
 * subprocess (Debian's `python3-torch`), inputs and outputs passed as `.npy` files in a private
 * temporary folder. Inputs go to `forward` by position (the feeds' order); outputs (a tensor, or
 * tuples/lists/dicts of them, flattened in order) are named by `RunOptions.outputs`, else by the
 * imported model's graph outputs, else `output_0`, `output_1`, …
 *
 * torch.jit.load runs the archive's TorchScript (torch's own restricted unpickler, no Python
 * pickle); use this engine on files you would hand to torch yourself.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Model, type Tensor } from '@modelpass/ir';
import { feedsToMap, type Engine, type Feeds, type ModelSource, type RunOptions } from './engine.js';
import { runtimeError } from './errors.js';
import { readNpy, writeNpy } from './npy.js';
import { checkRegularFile } from './regular-file.js';

export interface TorchEngineOptions {
  /** The Python that has torch (default `MODELPASS_TORCH_PYTHON` or `/usr/bin/python3`). */
  readonly python?: string;
  /** Longest one run may take (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Torch intra-op threads (default 1: results do not depend on the machine). */
  readonly threads?: number;
}

export const TORCH_SETUP_HINT = 'install Debian PyTorch: apt-get install -y --no-install-recommends python3-torch (tools/setup.sh does), or set MODELPASS_TORCH_PYTHON to a Python that has torch';

/** A path the torch engine takes (by extension, as the CLI tells formats). */
export function isTorchScriptPath(path: string): boolean {
  return /\.(pt|pth)$/i.test(path);
}

const RUNNER = `
import json, re, sys
try:
    import numpy, torch
except ImportError as error:
    print("MODELPASS_NO_TORCH " + str(error), file=sys.stderr)
    sys.exit(3)
try:
    import torchvision  # registers torchvision's TorchScript ops (torchvision::nms, roi_align, ...) that archives call
    torchvision_missing = None
except ImportError as error:
    torchvision_missing = str(error)
job = json.load(open(sys.argv[1]))
torch.set_num_threads(job["threads"])
try:
    module = torch.jit.load(job["archive"], map_location="cpu")
except RuntimeError as error:
    unknown = re.search(r"Unknown builtin op: ([A-Za-z_][A-Za-z0-9_]*::[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)", str(error))
    if unknown is None:
        raise
    library = unknown.group(1).split("::")[0]
    missing = torchvision_missing if library == "torchvision" else "no library that registers it is loaded"
    print("MODELPASS_UNKNOWN_OP " + json.dumps({"op": unknown.group(1), "library": library, "missing": missing}), file=sys.stderr)
    sys.exit(4)
module.eval()
inputs = [torch.from_numpy(numpy.load(path)) for path in job["inputs"]]
outputs = []
def flatten(value):
    if isinstance(value, torch.Tensor):
        outputs.append(value)
    elif isinstance(value, (tuple, list)):
        for item in value:
            flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            flatten(item)
    elif isinstance(value, (bool, int, float)):
        outputs.append(torch.tensor(value))
    elif value is None:
        pass  # an Optional output left None (googlenet's aux logits): the imported graph has no output for it either
    else:
        raise TypeError("the module returned a " + type(value).__name__ + ", not tensors")
with torch.no_grad():
    flatten(module(*inputs))
for index, tensor in enumerate(outputs):
    numpy.save(job["outputs"] + "/output_" + str(index) + ".npy", tensor.detach().contiguous().numpy())
json.dump({"count": len(outputs)}, open(job["outputs"] + "/outputs.json", "w"))
`;

export class TorchEngine implements Engine {
  readonly name = 'torch';
  /** Outputs come back in order, not by name: comparisons align them by position. */
  readonly positionalOutputs = true;

  constructor(private readonly options: TorchEngineOptions = {}) {}

  async run(source: ModelSource, feeds: Feeds, runOptions: RunOptions = {}): Promise<Map<string, Tensor>> {
    const archive = archivePath(source);
    checkRegularFile(archive, 'TorchScript archive');
    const folder = mkdtempSync(join(tmpdir(), 'modelpass-torch-'));
    try {
      const inputs = [...feedsToMap(feeds)].map(([, tensor], index) => {
        const path = join(folder, `input_${index}.npy`);
        writeNpy(tensor, path);
        return path;
      });
      const job = join(folder, 'job.json');
      writeFileSync(job, JSON.stringify({ archive: resolve(archive), inputs, outputs: folder, threads: this.options.threads ?? 1 }));
      await this.python(archive, job);
      const manifest = join(folder, 'outputs.json');
      if (!existsSync(manifest)) throw runtimeError({ reason: `torch wrote no outputs for '${archive}'`, location: { file: archive } });
      const { count } = JSON.parse(readFileSync(manifest, 'utf8')) as { count: number };
      const names = outputNames(source, runOptions, count);
      const outputs = new Map<string, Tensor>();
      for (let i = 0; i < count; i++) outputs.set(names[i]!, readNpy(join(folder, `output_${i}.npy`)));
      return outputs;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  async dispose(): Promise<void> {}

  private python(archive: string, job: string): Promise<void> {
    const python = this.options.python ?? process.env.MODELPASS_TORCH_PYTHON ?? '/usr/bin/python3';
    return new Promise((done, fail) => {
      execFile(
        python,
        ['-c', RUNNER, job],
        { timeout: this.options.timeoutMs ?? 600_000, maxBuffer: 16 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
        (error, _stdout, stderr) => {
          if (!error) return done();
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            return fail(runtimeError({ reason: `the torch engine cannot start '${python}': it does not exist`, hint: TORCH_SETUP_HINT }));
          }
          if (/MODELPASS_NO_TORCH/.test(stderr)) {
            return fail(runtimeError({ reason: `the torch engine needs PyTorch, and '${python}' cannot import it`, hint: TORCH_SETUP_HINT }));
          }
          const unknownOp = /MODELPASS_UNKNOWN_OP (.*)/.exec(stderr);
          if (unknownOp) return fail(unknownOpError(archive, python, JSON.parse(unknownOp[1]!) as UnknownOp));
          if (error.killed) {
            return fail(runtimeError({ reason: `torch ran '${archive}' for longer than ${this.options.timeoutMs ?? 600_000} ms and was stopped`, location: { file: archive } }));
          }
          const lines = stderr.trim().split('\n');
          const last = lines.filter((l) => /Error|error:/.test(l)).at(-1) ?? lines.at(-1) ?? String(error);
          fail(runtimeError({ reason: `torch could not run '${archive}': ${last.trim()}`, location: { file: archive }, notes: lines.slice(-12) }));
        },
      );
    });
  }
}

/** A custom op the archive calls that torch.jit.load did not know: `torchvision::nms`, its library, why it was not there. */
interface UnknownOp {
  readonly op: string;
  readonly library: string;
  readonly missing: string | null;
}

/** torch.jit.load knows a library's custom ops (`torchvision::nms`) only once the library is imported. */
function unknownOpError(archive: string, python: string, unknown: UnknownOp): Error {
  const torchvision = unknown.library === 'torchvision';
  return runtimeError({
    reason: torchvision
      ? `torch cannot load '${archive}': it calls torchvision's custom op ${unknown.op}, which torch knows only with torchvision imported, and '${python}' cannot import torchvision${unknown.missing ? ` (${unknown.missing})` : ''}`
      : `torch cannot load '${archive}': it calls the custom op ${unknown.op} of library '${unknown.library}', which the torch engine does not load`,
    location: { file: archive },
    code: 'runtime/torch-custom-op',
    hint: torchvision
      ? `install torchvision for that Python (Debian: apt-get install -y --no-install-recommends python3-torchvision), or set MODELPASS_TORCH_PYTHON to a Python that has torch and torchvision`
      : `the torch engine imports torch and torchvision only: run the archive where '${unknown.library}' is loaded, or compare the model's ONNX export instead`,
  });
}

function archivePath(source: ModelSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof Model && source.sourceFormat === 'torchscript' && source.sourcePath) return source.sourcePath;
  throw runtimeError({
    reason: 'the torch engine runs TorchScript archives (.pt files); it was given ' + (source instanceof Uint8Array ? 'ONNX bytes' : 'an in-memory model not read from a .pt file'),
    hint: 'run ONNX models on --engine ort, or write the model as .pt first (modelpass convert m.onnx -o m.pt)',
  });
}

function outputNames(source: ModelSource, options: RunOptions, count: number): string[] {
  const given = options.outputs ?? (source instanceof Model ? source.graph.outputs.map((v) => v.name) : undefined);
  if (given && given.length === count) return [...given];
  return Array.from({ length: count }, (_, i) => `output_${i}`);
}
