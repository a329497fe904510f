/**
 * `convert m.onnx -o m.tflite` of a model whose input has symbolic dims past the batch axis: TFLite
 * lays them out as 1, which it used to do silently (a PaddleOCR classifier with H/W symbolic became a
 * model for 1×1 images). convert now says so, naming the dims and the --input-shape that fixes it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-tflite-static-'));
const image = join(temp, 'image.onnx');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(() => {
  // A 3×3 conv over x[N, 3, H, W], written by ONNX's own helper (python3-onnx).
  const script = [
    'import sys, numpy as np, onnx',
    'from onnx import helper, numpy_helper, TensorProto',
    "w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32), 'w')",
    "node = helper.make_node('Conv', ['x', 'w'], ['y'], pads=[1, 1, 1, 1])",
    "g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 'H', 'W'])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 4, 'H', 'W'])], [w])",
    "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])",
  ].join('\n');
  execFileSync('/usr/bin/python3', ['-c', script, image], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('convert to TFLite with symbolic input dims', () => {
  it('notes the dims past the batch axis that become 1, with the --input-shape to give', async () => {
    const result = await runCli(['convert', image, '-o', join(temp, 'image.tflite')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("input 'x' has symbolic dims past the batch axis ('H', 'W')");
    expect(result.stderr).toContain('--input-shape x=1,3,SIZE,SIZE');
  });

  it('says nothing when only the batch is symbolic, or the sizes are given (and that model agrees with ORT)', async () => {
    const cnn = join(temp, 'cnn.onnx');
    copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), cnn);
    const batchOnly = await runCli(['convert', cnn, '-o', join(temp, 'cnn.tflite')]);
    expect(batchOnly.code).toBe(0);
    expect(batchOnly.stderr).not.toMatch(/symbolic dims/);
    const sized = await runCli(['convert', image, '-o', join(temp, 'sized.tflite'), '--input-shape', 'x=1,3,8,6']);
    expect(sized.code).toBe(0);
    expect(sized.stderr).not.toMatch(/symbolic dims/);
    const compared = await runCli(['compare', image, join(temp, 'sized.tflite'), '--dim', 'N=1', '--dim', 'H=8', '--dim', 'W=6']);
    expect(compared.stdout).toMatch(/verdict: agree/);
    expect(compared.code).toBe(0);
  });
});

describe('convert a TorchScript archive (no recorded input shape) to TFLite', () => {
  const archive = join(temp, 'conv.pt');

  beforeAll(() => {
    // A scripted conv + ReLU saved by Debian torch (tools/setup.sh installs python3-torch).
    const script = [
      'import sys, torch',
      'torch.manual_seed(0)',
      'class M(torch.nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)',
      '    def forward(self, image):',
      '        return torch.relu(self.conv(image))',
      'torch.jit.script(M().eval()).save(sys.argv[1])',
    ].join('\n');
    // torch.jit.script reads the class's source, so the script runs from a file, not `-c`.
    const maker = join(temp, 'make_conv.py');
    writeFileSync(maker, script);
    execFileSync('/usr/bin/python3', [maker, archive], { stdio: 'ignore', timeout: 120_000 });
  }, 120_000);

  it('says the input has no known shape and which --input-shape to give; with it the .tflite agrees with torch', async () => {
    const refused = await runCli(['convert', archive, '-o', join(temp, 'conv.tflite')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("input 'image' has no known shape (TorchScript archives record none)");
    expect(refused.stderr).toContain('--input-shape image=');
    const sized = await runCli(['convert', archive, '-o', join(temp, 'conv.tflite'), '--input-shape', 'image=1,3,8,8']);
    expect(sized.code, sized.stderr).toBe(0);
    expect(sized.stderr).not.toMatch(/no known shape/);
    const compared = await runCli(['compare', archive, join(temp, 'conv.tflite'), '--input-shape', 'image=1,3,8,8']);
    expect(compared.stdout).toMatch(/verdict: agree/);
    expect(compared.code).toBe(0);
  }, 120_000);
});

describe('convert to TFLite: a refusal caused by a symbolic batch', () => {
  const token = join(temp, 'last-row.onnx');

  beforeAll(() => {
    // The last row x[N-1], N read from the input's shape: a Gather whose index is computed from the
    // symbolic batch (TFLite GATHER takes no negative index, so it needs the dim static). ViT's
    // class-token Expand, the example here before, now converts with the batch symbolic (issue 12).
    const script = [
      'import sys, numpy as np, onnx',
      'from onnx import helper, numpy_helper, TensorProto',
      "zero = numpy_helper.from_array(np.array(0, dtype=np.int64), 'zero')",
      "one = numpy_helper.from_array(np.array(1, dtype=np.int64), 'one')",
      'nodes = [',
      "  helper.make_node('Shape', ['x'], ['shape']),",
      "  helper.make_node('Gather', ['shape', 'zero'], ['n'], axis=0),",
      "  helper.make_node('Sub', ['n', 'one'], ['last']),",
      "  helper.make_node('Unsqueeze', ['last', 'axes0'], ['index']),",
      "  helper.make_node('Gather', ['x', 'index'], ['y'], axis=0),",
      ']',
      "axes0 = numpy_helper.from_array(np.array([0], dtype=np.int64), 'axes0')",
      "g = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 2, 4])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 2, 4])], [zero, one, axes0])",
      "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]), sys.argv[1])",
    ].join('\n');
    execFileSync('/usr/bin/python3', ['-c', script, token], { stdio: 'ignore', timeout: 120_000 });
  }, 120_000);

  it('notes the symbolic input dims and the --input-shape that fixes them; with it the .tflite agrees with ORT', async () => {
    const refused = await runCli(['convert', token, '-o', join(temp, 'token.tflite')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Gather/);
    expect(refused.stderr).toContain("note: input 'x' has symbolic dims ('N'), so shapes computed from them are not static while converting");
    expect(refused.stderr).toContain('--input-shape x=1,2,4');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const sized = await runCli(['convert', token, '-o', join(temp, 'token.tflite'), '--input-shape', 'x=1,2,4']);
    expect(sized.code).toBe(0);
    const compared = await runCli(['compare', token, join(temp, 'token.tflite'), '--dim', 'N=1']);
    expect(compared.stdout).toMatch(/verdict: agree/);
  });
});
