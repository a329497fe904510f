/**
 * s17 (note11 item 3): `convert --shards N` with a pipeline that runs no sharded pass (or with no pipeline) was accepted
 * silently — nothing was sharded. Like --io-layout, --latency or --queue without what they act on, --shards and --redis
 * there are a usage error (exit 2) before the model is read; a pipeline with quantize-static (or, with --redis, train
 * or distill), or with a plugin's pass (it may calibrate through quantize's statistics collector), is let through.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-shards-no-effect-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const model = join(temp, 'linear.onnx');
{
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [2, 8]));
  const w = Tensor.fromValues('float32', [8, 5], Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.3 + 0.2)));
  g.output(g.op1('onnx.MatMul', [x, g.constant(w, 'w')], {}, { name: 'logits' }));
  writeFileSync(model, encodeOnnx(g.model({ onnx: 17 })));
}

const plugin = join(temp, 'probe-plugin.mjs');
writeFileSync(
  plugin,
  `import { definePass, definePlugin } from '@modelpass/pass-manager';
const probe = definePass({ name: 'probe-calibration', summary: 'a plugin pass', run(model, context) { return context.preserveAll(); } });
export default definePlugin({ name: 'probe', version: '1.0.0', passManager: '^0.1.0', passes: [probe] });
`,
);

describe('convert --shards/--redis with nothing to shard', () => {
  it.each([
    ['a pipeline without a sharded pass', ['--shards', '2', '-p', 'simplify'], '--shards has no effect here', 'the pipeline runs none of them'],
    ['no pipeline', ['--shards', '3'], '--shards has no effect here', 'there is no pipeline'],
    ['--redis with a pipeline without one', ['--redis', 'redis://127.0.0.1:1', '-p', 'dce'], '--redis has no effect here', 'the training of train and distill'],
    ['--redis and --shards', ['--redis', 'redis://127.0.0.1:1', '--shards', '2', '-p', 'dce'], '--redis and --shards have no effect here', 'drop --redis and --shards'],
  ])('%s is a usage error (exit 2), nothing written', async (_what, flags, first, second) => {
    const output = join(temp, `out-${flags.join('').replace(/\W+/g, '')}.onnx`);
    const result = await runCli(['convert', model, '-o', output, ...flags]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(first);
    expect(result.stderr).toContain(second);
    expect(existsSync(output)).toBe(false);
  });

  it('quantize-static is sharded: --shards runs (embedded shards)', async () => {
    const output = join(temp, 'int8.onnx');
    const result = await runCli(['convert', model, '-o', output, '--shards', '2', '-p', 'quantize-static{samples=16}']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(existsSync(output)).toBe(true);
  });

  it("a plugin's pass may calibrate through the collector: let through", async () => {
    const output = join(temp, 'plugin.onnx');
    // Spawned: the built CLI hands a plugin outside the repository its own @modelpass packages.
    const result = spawnCli(['convert', model, '-o', output, '--shards', '2', '--plugin', plugin, '-p', 'probe-calibration'], temp);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});
