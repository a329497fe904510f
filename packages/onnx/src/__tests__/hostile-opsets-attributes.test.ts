// QA s15 round 8: ONNX files ONNX Runtime refuses at load that the reader took silently — an opset_import
// of version 0, -1 or 10000, one domain imported twice (the last version won), an attribute given twice
// (the last one won). Each is now refused, naming what and where.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, parseModel, tensorType } from '@modelpass/ir';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeOnnx, encodeOnnx, writeOnnx } from '@modelpass/onnx';
import { addModel, FLOAT, modelBytes, tensorInfo } from './helpers.js';

function refusal(bytes: Uint8Array): ModelpassError {
  try {
    decodeOnnx(bytes, { file: 'hostile.onnx' });
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('the model was read without an error');
}

function withOpsets(opsets: { domain: string; version: number }[]): Uint8Array {
  return modelBytes({ ...addModel(), opset_import: opsets });
}

describe('opset_import', () => {
  it('refuses a version below 1', () => {
    for (const version of [0, -1]) {
      expect(refusal(withOpsets([{ domain: '', version }])).message).toContain(`opset_import of domain 'ai.onnx' has version ${version} (expected a version of 1 or more`);
    }
  });

  it('reads another domain imported at version 0 or -1 when no node uses it (ONNX checker and ONNX Runtime load it), refuses a node of it', () => {
    for (const version of [0, -1]) {
      const model = decodeOnnx(withOpsets([{ domain: '', version: 13 }, { domain: 'my.domain', version }]));
      expect([...model.opsetImports]).toEqual([['onnx', 13]]);
    }
    const base = addModel();
    const node = { ...base.graph!.node![0]!, name: 'gelu', op_type: 'Gelu', domain: 'com.microsoft', input: [base.graph!.node![0]!.input![0]!] };
    const error = refusal(modelBytes({ ...base, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 0 }], graph: { ...base.graph!, node: [node] } }));
    expect(error.message).toContain("node 'gelu' (Gelu) is of domain 'com.microsoft', which opset_import names at version 0");
  });

  it('refuses an ai.onnx opset newer than any release (10000)', () => {
    const error = refusal(withOpsets([{ domain: '', version: 10000 }]));
    expect(error.message).toContain('opset_import asks for ai.onnx opset 10000, newer than any ONNX release modelpass knows (expected an opset of at most 26');
    expect(error.diagnostics[0]!.location?.file).toBe('hostile.onnx');
  });

  it("refuses one domain imported at two versions ('' and 'ai.onnx' are one domain)", () => {
    expect(refusal(withOpsets([{ domain: '', version: 13 }, { domain: '', version: 17 }])).message).toContain("opset_import names domain 'ai.onnx' twice (versions 13 and 17)");
    expect(refusal(withOpsets([{ domain: '', version: 17 }, { domain: 'ai.onnx', version: 13 }])).message).toContain("names domain 'ai.onnx' twice (versions 17 and 13)");
  });

  it('reads one domain named twice at the same version (ONNX checker and ONNX Runtime load it)', () => {
    const model = decodeOnnx(withOpsets([{ domain: '', version: 13 }, { domain: 'ai.onnx', version: 13 }, { domain: '', version: 13 }]));
    expect([...model.opsetImports]).toEqual([['onnx', 13]]);
  });

  // Fuzz seed 1801 case 1478: opset_import held only '../../etc/passwd' at version 0 (dropped as unusable); the
  // model's default-domain nodes then had no opset, were read, and writing the model back failed.
  it('refuses a default-domain node when opset_import names only other domains (ONNX checker: no opset import for domain)', () => {
    for (const opsets of [[{ domain: 'com.microsoft', version: 1 }], [{ domain: '../../etc/passwd', version: 0 }]]) {
      const error = refusal(withOpsets(opsets));
      expect(error.message).toContain("node 'Add' (Add) is of the default ONNX domain, which opset_import does not name");
      expect(error.diagnostics[0]!.location?.file).toBe('hostile.onnx');
    }
    expect(refusal(withOpsets([{ domain: 'com.microsoft', version: 1 }])).message).toContain("(it names 'com.microsoft')");
    expect(() => decodeOnnx(modelBytes({ ...addModel(), ir_version: 2, opset_import: [{ domain: 'com.microsoft', version: 1 }] }))).not.toThrow();
  });

  it('still reads released opsets and other domains', () => {
    const model = decodeOnnx(withOpsets([{ domain: '', version: 26 }, { domain: 'com.microsoft', version: 1 }]));
    expect([...model.opsetImports]).toEqual([['onnx', 26], ['com.microsoft', 1]]);
  });
});

// QA s16: each of these converted with exit 0 (ONNX Runtime: 'Missing opset in the model'; a dim of -3 reached
// the .tflite, which our reader then refused — now read as unknown, as ONNX Runtime reads it).
describe('no opset_import, negative declared dims', () => {
  it('refuses a model of IR version 3 or later with no opset_import, reads one of IR version 2', () => {
    const error = refusal(withOpsets([]));
    expect(error.message).toContain('the model imports no operator set (opset_import is empty in an IR version 8 model) (expected at least one opset_import entry');
    expect(error.diagnostics[0]!.location?.file).toBe('hostile.onnx');
    expect(() => decodeOnnx(modelBytes({ ...addModel(), ir_version: 2, opset_import: [] }))).not.toThrow();
  });

  it('reads a negative dim_value in a graph input, output or value_info as an unknown dim, as ONNX Runtime does', () => {
    const base = addModel();
    const input = decodeOnnx(modelBytes({ ...base, graph: { ...base.graph!, input: [tensorInfo('x', FLOAT, [2, -3])] } }));
    expect(input.graph.inputs[0]!.type).toMatchObject({ shape: [2, null] });
    const output = decodeOnnx(modelBytes({ ...base, graph: { ...base.graph!, output: [tensorInfo('y', FLOAT, [-1, 3])] } }));
    expect(output.graph.outputs[0]!.type).toMatchObject({ shape: [null, 3] });
    const written = decodeOnnx(encodeOnnx(input));
    expect(written.graph.inputs[0]!.type).toMatchObject({ shape: [2, null] });
    expect(decodeOnnx(modelBytes({ ...base, graph: { ...base.graph!, input: [tensorInfo('x', FLOAT, [0, 3])] } })).graph.inputs[0]!.type).toMatchObject({ shape: [0, 3] });
  });
});

describe('node attributes', () => {
  it('refuses an attribute given twice, naming the node and the attribute', () => {
    const base = addModel();
    const node = { ...base.graph!.node![0]!, name: 'add', attribute: [{ name: 'note', type: 3, s: new TextEncoder().encode('a') }, { name: 'note', type: 3, s: new TextEncoder().encode('b') }] };
    const error = refusal(modelBytes({ ...base, graph: { ...base.graph!, node: [node] } }));
    expect(error.message).toContain("attribute 'note' of node 'add' appears more than once (expected each attribute once per node)");
    expect(error.diagnostics[0]!.location).toMatchObject({ file: 'hostile.onnx', node: 'add' });
  });
});

// QA s16: 'convert m.mpir -o m.onnx' of a textual model without opsets{...} wrote an empty opset_import, exit 0.
describe('writing a model with no opset', () => {
  it('is refused naming the fix; a model with one is written and read back', () => {
    const model = parseModel('model {\ngraph @g(%x: float32[2]) {\n  %y: float32[2] = onnx.Relu(%x)\n  return %y\n}\n}\n');
    expect(() => encodeOnnx(model)).toThrow(/the model imports no operator set, and ONNX Runtime refuses an ONNX file without one \(expected at least one opset import, such as onnx 17\)/);
    const b = new GraphBuilder();
    b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [2]))]));
    expect([...decodeOnnx(encodeOnnx(b.model({ onnx: 17 }))).opsetImports]).toEqual([['onnx', 17]]);
  });

  // s17: writeOnnx's refusal named the fix but not the file it was asked to write.
  it('names the output file when writeOnnx refuses it, and leaves nothing in the folder', () => {
    const model = parseModel('model {\ngraph @g(%x: float32[2]) {\n  %y: float32[2] = onnx.Relu(%x)\n  return %y\n}\n}\n');
    const folder = mkdtempSync(join(tmpdir(), 'modelpass-no-opset-'));
    try {
      const path = join(folder, 'out.onnx');
      let error: unknown;
      try {
        writeOnnx(model, path);
      } catch (caught) {
        error = caught;
      }
      expect(ModelpassError.is(error), String(error)).toBe(true);
      const refusal = error as ModelpassError;
      expect(refusal.message).toContain(`${path}: not written: the model imports no operator set`);
      expect(refusal.diagnostics[0]!.location).toMatchObject({ file: path });
      expect(refusal.diagnostics[0]!.code).toBe('onnx/no-opset');
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
