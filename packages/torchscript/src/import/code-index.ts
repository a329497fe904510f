/**
 * The archive's `code/` records, parsed on first use and looked up by qualified name: the class
 * `__torch__.torch.nn.modules.conv.Conv2d` lives in `code/__torch__/torch/nn/modules/conv.py`.
 */
import type { ClassDef, FunctionDef, SourceFile } from '../script/ast.js';
import { parseTorchScript } from '../script/parser.js';

export class CodeIndex {
  private readonly parsed = new Map<string, SourceFile | null>();

  /** `code` as `TorchArchive.code` has it (record name → source); `displayPrefix` names files in diagnostics. */
  constructor(
    private readonly code: ReadonlyMap<string, string>,
    private readonly displayPrefix: string,
  ) {}

  /** The file a dotted module path maps to, or null when the archive has no such record. */
  file(modulePath: string): SourceFile | null {
    const record = `code/${modulePath.split('.').join('/')}.py`;
    let file = this.parsed.get(record);
    if (file === undefined) {
      const source = this.code.get(record);
      file = source === undefined ? null : parseTorchScript(source, `${this.displayPrefix}${record}`);
      this.parsed.set(record, file);
    }
    return file;
  }

  classNamed(qualifiedName: string): ClassDef | undefined {
    const { module, name } = splitQualified(qualifiedName);
    return this.file(module)?.classes.get(name);
  }

  functionNamed(qualifiedName: string): FunctionDef | undefined {
    const { module, name } = splitQualified(qualifiedName);
    return this.file(module)?.functions.get(name);
  }
}

function splitQualified(qualifiedName: string): { module: string; name: string } {
  const dot = qualifiedName.lastIndexOf('.');
  return { module: qualifiedName.slice(0, dot), name: qualifiedName.slice(dot + 1) };
}
