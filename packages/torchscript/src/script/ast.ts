/** The syntax tree of TorchScript source (the Python subset torch prints), with locations. */

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export type Expr =
  | { kind: 'name'; id: string; at: SourcePosition }
  | { kind: 'int'; value: number; at: SourcePosition }
  | { kind: 'float'; value: number; at: SourcePosition }
  | { kind: 'string'; value: string; at: SourcePosition }
  | { kind: 'tuple'; items: Expr[]; at: SourcePosition }
  | { kind: 'list'; items: Expr[]; at: SourcePosition }
  | { kind: 'dict'; entries: Array<[Expr, Expr]>; at: SourcePosition }
  | { kind: 'attribute'; object: Expr; name: string; at: SourcePosition }
  | { kind: 'subscript'; object: Expr; index: Expr; at: SourcePosition }
  | { kind: 'slice'; lower: Expr | null; upper: Expr | null; step: Expr | null; at: SourcePosition }
  | { kind: 'call'; callee: Expr; args: Expr[]; keywords: Array<{ name: string; value: Expr }>; at: SourcePosition }
  | { kind: 'unary'; op: string; operand: Expr; at: SourcePosition }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; at: SourcePosition }
  | { kind: 'ternary'; condition: Expr; then: Expr; otherwise: Expr; at: SourcePosition };

export type Stmt =
  | { kind: 'expr'; value: Expr; at: SourcePosition }
  | { kind: 'assign'; targets: Expr; value: Expr; at: SourcePosition }
  | { kind: 'augassign'; target: Expr; op: string; value: Expr; at: SourcePosition }
  | { kind: 'annotated'; target: Expr; annotation: Expr; value: Expr | null; at: SourcePosition }
  | { kind: 'return'; value: Expr | null; at: SourcePosition }
  | { kind: 'if'; condition: Expr; body: Stmt[]; orelse: Stmt[]; at: SourcePosition }
  | { kind: 'for'; target: Expr; iterable: Expr; body: Stmt[]; at: SourcePosition }
  | { kind: 'while'; condition: Expr; body: Stmt[]; at: SourcePosition }
  | { kind: 'pass' | 'break' | 'continue'; at: SourcePosition }
  | { kind: 'raise'; value: Expr | null; at: SourcePosition }
  | { kind: 'assert'; condition: Expr; message: Expr | null; at: SourcePosition }
  | { kind: 'def'; def: FunctionDef }
  | { kind: 'class'; def: ClassDef }
  | { kind: 'import'; at: SourcePosition };

export interface Parameter {
  name: string;
  annotation: Expr | null;
  defaultValue: Expr | null;
}

export interface FunctionDef {
  name: string;
  params: Parameter[];
  returns: Expr | null;
  body: Stmt[];
  at: SourcePosition;
}

export interface ClassDef {
  name: string;
  bases: Expr[];
  /** Class-level statements other than methods (annotations, `__parameters__`, Final constants). */
  fields: Stmt[];
  methods: Map<string, FunctionDef>;
  at: SourcePosition;
}

/** One parsed `code/` record. */
export interface SourceFile {
  file: string;
  classes: Map<string, ClassDef>;
  functions: Map<string, FunctionDef>;
  /** Module-level assignments (rare: constants some torch versions print). */
  statements: Stmt[];
}

/** `file:line:col`, the way diagnostics print a source position. */
export function formatPosition(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.column}`;
}
