/**
 * QA s15 round 8: `batch <folder>` converted a model that was only a symbolic link in that folder to a
 * file outside it (in/link.onnx → ../outside/secret.onnx): it read outside what the user handed over.
 * Such an entry is now skipped with a note naming it and its target; a link to a file inside the folder,
 * and the outside file named by itself, still convert.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { spawnCli } from './run-cli.js';

function reluNet(): Uint8Array {
  const g = new GraphBuilder();
  g.output(g.op1('onnx.Relu', [g.input('x', tensorType('float32', [1, 4]))], {}, { name: 'relu' }));
  return encodeOnnx(g.model({ onnx: 17 }));
}

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-batch-links-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('batch of a folder holding symbolic links', () => {
  it('skips a link out of the folder with a note, converts the rest', () => {
    const inside = join(temp, 'in');
    const outside = join(temp, 'outside');
    mkdirSync(inside);
    mkdirSync(outside);
    writeFileSync(join(inside, 'a.onnx'), reluNet());
    writeFileSync(join(outside, 'secret.onnx'), reluNet());
    symlinkSync('../outside/secret.onnx', join(inside, 'link.onnx'));
    symlinkSync('a.onnx', join(inside, 'inner.onnx'));
    const out = join(temp, 'out');
    mkdirSync(out);
    const run = spawnCli(['batch', '--pipeline', 'canonicalize', inside, '-o', out], temp);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`modelpass batch: skipped '${join(inside, 'link.onnx')}': a symbolic link out of the folder '${inside}' (to '${join(outside, 'secret.onnx')}'); name the file itself to convert it`);
    expect(existsSync(join(out, 'a.onnx'))).toBe(true);
    expect(existsSync(join(out, 'inner.onnx'))).toBe(true);
    expect(existsSync(join(out, 'link.onnx'))).toBe(false);
    const named = spawnCli(['batch', '--pipeline', 'canonicalize', join(inside, 'link.onnx'), '-o', out], temp);
    expect(named.code, named.stderr).toBe(0);
    expect(existsSync(join(out, 'link.onnx'))).toBe(true);
  });
});
