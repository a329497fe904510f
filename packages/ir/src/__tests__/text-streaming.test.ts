import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, ComputedStorage, GraphBuilder, modelsEqual, printModel, printModelToFile, readModelText, Tensor, tensorType } from '@modelpass/ir';

const builtIr = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'mpir-stream-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function readAt(path: string, position: number, length: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, position);
    return buffer.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

describe('printModelToFile', () => {
  it('writes exactly the text printModel returns (big constants and attributes streamed, UTF-8 names)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [70000]));
    const big = new Float32Array(70000).map((_, i) => Math.cos(i));
    const w = b.constant(Tensor.fromStorage('float32', [70000], new ComputedStorage(280000, () => new Uint8Array(big.buffer.slice(0)), 'folded')), 'wéights');
    const c = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [70000], big)) });
    b.output(b.op1('onnx.Add', [b.op1('onnx.Add', [x, w]), c]));
    const model = b.model();
    const path = join(root, 'same.mpir');
    printModelToFile(model, path);
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(printModel(model));
    expect(modelsEqual(readModelText(path), model)).toBeUndefined();
    expect(readdirSync(root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it(
    'streams a model whose text is longer than a JavaScript string can hold, in bounded memory',
    () => {
      // A sparse 270 MiB weights file: its hex is 540 MiB of text, past V8's ~512 MiB string limit.
      const byteLength = 270 * 1024 * 1024;
      expect(byteLength * 2).toBeGreaterThan(bufferConstants.MAX_STRING_LENGTH);
      const weights = join(root, 'weights.bin');
      const fd = openSync(weights, 'w');
      ftruncateSync(fd, byteLength);
      const marks = [
        { at: 0, bytes: Buffer.from('first') },
        { at: byteLength / 2 + 3, bytes: Buffer.from('middle') },
        { at: byteLength - 4, bytes: Buffer.from('last') },
      ];
      for (const mark of marks) writeSync(fd, mark.bytes, 0, mark.bytes.length, mark.at);
      closeSync(fd);
      const output = join(root, 'huge.mpir');
      // In a child process, so its peak memory is its own: it must stay far below the text's size.
      const script = `
        import * as ir from ${JSON.stringify(builtIr)};
        const b = new ir.GraphBuilder();
        const x = b.input('x', ir.tensorType('uint8', [${byteLength}]));
        const w = b.constant(ir.Tensor.fromStorage('uint8', [${byteLength}], new ir.FileRangeStorage(${JSON.stringify(weights)}, 0, ${byteLength})), 'w');
        b.output(b.op1('onnx.Add', [x, w]));
        ir.printModelToFile(b.model(), ${JSON.stringify(output)});
        process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
      `;
      const peakBytes = Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
      const size = statSync(output).size;
      console.log(`printModelToFile: ${(size / 2 ** 20).toFixed(0)} MiB of .mpir text with a peak RSS of ${(peakBytes / 2 ** 20).toFixed(0)} MiB`);
      expect(size).toBeGreaterThan(bufferConstants.MAX_STRING_LENGTH);
      expect(peakBytes).toBeLessThan(200 * 2 ** 20);
      const head = readAt(output, 0, 300);
      const dataStart = head.indexOf(`const %w = tensor<uint8[${byteLength}]> hex"`);
      expect(dataStart).toBeGreaterThan(0);
      const prefix = head.slice(0, dataStart + `const %w = tensor<uint8[${byteLength}]> hex"`.length);
      for (const mark of marks) expect(readAt(output, prefix.length + mark.at * 2, mark.bytes.length * 2)).toBe(mark.bytes.toString('hex'));
      expect(readAt(output, prefix.length + byteLength * 2, 40)).toMatch(/^"\n {2}%\S+ = onnx\.Add\(%x, %w\)/);
      expect(readdirSync(root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      rmSync(output);
      rmSync(weights);
    },
    120_000,
  );
});
